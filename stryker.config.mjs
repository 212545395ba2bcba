// @ts-check
/**
 * Mutation testing of the pure domain (`npm run mutation`; docs/mutation-testing.md). Not part of `npm test`
 * or CI: a run takes minutes, and its answer (which behaviour no test pins) is read by a person.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  // lambdas/core imports nothing from AWS, so its unit tests alone must pin what it does.
  mutate: ['lambdas/core/**/*.ts'],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    // The unit tests only: the integration tests start emulators and would take hours once per mutant.
    configFile: 'jest.unit.config.js',
    // Of those, only the tests that import lambdas/core run (the IAM proxy's and the grants' tests do not).
    enableFindRelatedTests: true,
    config: {
      // openapi.test.ts greps the use cases' source text for `new Conflict('code'` and the like, and Stryker's sandbox holds
      // rewritten sources (`stryMutAct_…("12") ? "" : "code"`): it would fail there whatever the mutant.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/unit/openapi.test.ts'],
    },
  },
  // Each mutant runs only the tests that reach it.
  coverageAnalysis: 'perTest',
  // The machines have 2 cores, shared: one test process leaves the other core to everyone else.
  concurrency: 1,
  // Below 85 % the run fails: a change that leaves core behaviour untested shows as a red command, not a number.
  thresholds: { high: 95, low: 85, break: 85 },
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  // Stryker copies the project into .stryker-tmp: leave out what only other tests and the deploy produce,
  // and tsconfig.json: nothing in the sandbox reads it (SWC strips types without it), and Stryker 9 would
  // rewrite it through TypeScript's JavaScript API, which TypeScript 7 no longer has.
  ignorePatterns: ['cdk.out', 'test-output', 'coverage', 'reports', '/tsconfig.json'],
  tempDirName: '.stryker-tmp',
};
