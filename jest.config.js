/**
 * Nest 12 and some of its ecosystem ship as ES modules only. On Node 20, Jest's CommonJS
 * runtime cannot require() them, so SWC compiles them to CommonJS like the project's own code.
 * PGlite's CommonJS build still import()s Node built-ins, which Jest's sandbox refuses without
 * --experimental-vm-modules; compiled here too, those become require().
 */
const compiledPackages = [
  '@nestjs',
  '@electric-sql',
  'cache-manager',
  'keyv',
  '@keyv',
  'uid',
  'uuid',
  'es-toolkit',
  '@cacheable',
  'hookified',
];

const shared = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j|mj|cj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2023',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${compiledPackages.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // Schematic templates (schematics/*/files/) become specs only once generated into src/ and test/.
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/schematics/[^/]+/files/'],
  testTimeout: 30000,
};

/**
 * Fault tests (test/faults) start their own PostgreSQL and Redis, kill and restart them under a
 * running API and take a minute or more, timing-sensitive: `npm run test:faults` runs them alone
 * (`--selectProjects faults`, in band), and CI runs them as their own step. Plain `jest` and
 * `npm test` leave them out; naming the project or a fault spec on the command line brings it in.
 */
const faultsRequested = process.argv.some((arg) => /(^|=)faults$|\.fault-spec/.test(arg));
const faults = {
  ...shared,
  displayName: 'faults',
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  testTimeout: 60000,
  slowTestThreshold: 30,
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    ...(faultsRequested ? [faults] : []),
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      slowTestThreshold: 15,
    },
    {
      // Embedded mode is a product feature: the identity suites pass on PGlite and in-process stores too.
      ...shared,
      displayName: 'e2e-embedded',
      testMatch: [
        'auth',
        'api-keys',
        'users',
        'caching',
        'rate-limit',
        'jobs',
        'webhooks',
        'realtime',
      ].map((suite) => `<rootDir>/test/${suite}.e2e-spec.ts`),
      setupFiles: ['<rootDir>/test/helpers/embedded-mode.ts'],
      slowTestThreshold: 15,
    },
  ],
  testTimeout: 30000,
  // The coverage gate (CI runs `npm test -- --coverage`): over src/, unit and e2e suites together.
  coverageProvider: 'v8',
  collectCoverageFrom: ['<rootDir>/src/**/*.ts', '!<rootDir>/src/**/*.spec.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: { global: { lines: 85, branches: 80 } },
};
