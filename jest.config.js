/** Tests are transformed with SWC (fast, no type-check); `tsc --noEmit` type-checks separately in `npm test`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // A test stack's first start synthesizes the app (about 10 s, then cached by a hash of the sources).
  testTimeout: 60000,
  // Two suites at a time even on two cores: most of a suite's time is its local stack waiting (timers, webhooks,
  // functions in their own processes), so two overlap well: 691 s for the whole suite here, against about 870 s for
  // one at a time (jest's default on two cores), the CI's 15 minutes with npm ci included.
  maxWorkers: 2,
};
