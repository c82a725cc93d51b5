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
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  testTimeout: 30000,
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
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
      testMatch: ['auth', 'api-keys', 'users', 'caching', 'rate-limit'].map(
        (suite) => `<rootDir>/test/${suite}.e2e-spec.ts`,
      ),
      setupFiles: ['<rootDir>/test/helpers/embedded-mode.ts'],
      slowTestThreshold: 15,
    },
  ],
  testTimeout: 30000,
};
