/** Jest in native ESM mode, TypeScript compiled by swc (type-checking is `npm run typecheck`). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/lib', '<rootDir>/sample'],
  testMatch: ['**/*.spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    // The sample imports the package by name, as users do; tests run it on the sources.
    '^nestjs-client-credentials$': '<rootDir>/lib/index.ts',
    '^nestjs-client-credentials/testing$': '<rootDir>/lib/testing/index.ts',
    '^nestjs-client-credentials/redis$': '<rootDir>/lib/stores/redis/index.ts',
    '^nestjs-client-credentials/undici$': '<rootDir>/lib/undici/index.ts',
    '^nestjs-client-credentials/terminus$': '<rootDir>/lib/terminus/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
        module: { type: 'es6' },
      },
    ],
  },
  testTimeout: 20000,
};
