import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { OAuthConfigError } from '../../lib/index.js';
import { oauth2Client, startTokenServer } from '../http/http-support.js';
import { bootOAuth } from '../support/boot.js';
import { bootError } from '../support/boot-error.js';
import { closeAfterEach } from '../support/cleanup.js';
import { json } from '../support/recording-server.js';

/** `warmUp`: tokens while the app starts; a failure is a warning, and boot never waits past `timeoutMs`. */
const { track } = closeAfterEach();

describe('warmUp', () => {
  it('true: a token for every client before init resolves; the first call is served from the cache', async () => {
    const tokens = track(await startTokenServer());
    const app = track(await bootOAuth({ a: oauth2Client(tokens), b: oauth2Client(tokens) }, { warmUp: true }));
    expect(tokens.count).toBe(2);
    await app.tokens.getToken('a');
    await app.tokens.getToken('b');
    expect(tokens.count).toBe(2);
  });

  it('a list: only those clients', async () => {
    const tokens = track(await startTokenServer());
    track(await bootOAuth({ a: oauth2Client(tokens), b: oauth2Client(tokens) }, { warmUp: ['b'] }));
    expect(tokens.count).toBe(1);
  });

  it('a failing client is a warning, never a failed boot', async () => {
    const tokens = track(await startTokenServer());
    tokens.route('POST /bad', (_req, res) => json(res, 401, { error: 'invalid_client' }));
    const app = track(
      await bootOAuth(
        { good: oauth2Client(tokens), bad: oauth2Client(tokens, { tokenUrl: `${tokens.url}/bad` }) },
        { warmUp: true, retry: { maxAttempts: 1 } },
      ),
    );
    expect(app.logger.lines).toContainEqual({
      level: 'warn',
      message: 'Warm-up: no token for OAuth client "bad" (invalid_client); the first call will ask again',
    });
    await expect(app.tokens.getToken('good')).resolves.toMatchObject({ accessToken: 'tok-1' });
  });

  it('boot does not wait past the clients’ timeoutMs for an endpoint that never answers', async () => {
    const tokens = track(await startTokenServer());
    let arrived!: () => void;
    const hung = new Promise<void>((resolve) => (arrived = resolve));
    tokens.route('POST /hang', () => arrived()); // never answers; the app's close aborts it
    const app = track(
      await bootOAuth(
        { slow: oauth2Client(tokens, { tokenUrl: `${tokens.url}/hang` }) },
        { warmUp: true, timeoutMs: 300, retry: { maxAttempts: 1 } },
      ),
    );
    await hung;
    expect(app.tokens.cachedToken('slow')).toBeUndefined();
  });

  it('an unknown client name is a boot error naming warmUp', async () => {
    const error = await bootError(
      { strategy: 'oauth2', tokenUrl: 'https://as.example/token', clientId: 'i', clientSecret: 's' },
      { warmUp: ['nope'] },
    );
    expect(error).toBeInstanceOf(OAuthConfigError);
    expect(error.issues).toEqual([
      { client: undefined, field: 'warmUp', problem: 'names "nope", which is not among the clients' },
    ]);
  });
});
