/**
 * The unit tests alone: no emulator, no synthesized stack. Mutation testing runs these (`npm run mutation`),
 * since the whole suite would take hours per run once multiplied by every mutant.
 */
const base = require('./jest.config');

module.exports = { ...base, roots: ['<rootDir>/test/unit'] };
