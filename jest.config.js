/** client/ (an ESM workspace) as a path pattern: its .ts files take their own transform. */
const CLIENT_DIR = require('node:path')
  .join(__dirname, 'client')
  .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/client'],
  // client/ is ESM (type: module): a relative `./x.js` that does not exist means `./x.ts`.
  resolver: '<rootDir>/client/jest-resolver.cjs',
  testMatch: ['**/*.test.ts'],
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  transform: {
    // client/ is ESM on disk; jest runs it as CommonJS.
    [`^${CLIENT_DIR}/.+\\.ts$`]: '<rootDir>/client/jest-transform.cjs',
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  testTimeout: 30000,
  maxWorkers: 2,
};
