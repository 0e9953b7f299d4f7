import { describe, expect, it } from '@jest/globals';
import * as main from '../../lib/index.js';
import * as redis from '../../lib/stores/redis/index.js';
import * as undici from '../../lib/undici/index.js';
import * as testing from '../../lib/testing/index.js';

/**
 * The runtime names each entry point exports. A change here is a change of the public surface:
 * update the list on purpose, with the README.
 */
describe('public API', () => {
  it('nestjs-client-credentials', () => {
    expect(Object.keys(main).sort()).toEqual([
      'OAuthClients',
      'OAuthConfigError',
      'OAuthError',
      'OAuthFetch',
      'OAuthModule',
      'TokenRequestError',
      'TokenService',
      'TokenStore',
      'basicAuthorization',
      'fingerprint',
      'formEncode',
      'readRfc6749Error',
      'readSnakeOrCamelToken',
    ]);
  });

  it('nestjs-client-credentials/testing', () => {
    expect(Object.keys(testing).sort()).toEqual(['EMULATOR_NAMES', 'FakeClock', 'startEmulator']);
  });

  it('nestjs-client-credentials/redis', () => {
    expect(Object.keys(redis).sort()).toEqual(['RedisTokenStore']);
  });

  it('nestjs-client-credentials/undici', () => {
    expect(Object.keys(undici).sort()).toEqual(['OAuthDispatcher', 'oauthInterceptor']);
  });
});
