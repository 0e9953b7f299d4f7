import { OAuthError } from '../errors/oauth.error.js';
import { TokenRequestError } from '../errors/token-request.error.js';
import { redact, sensitiveValues } from './redact.js';

/** Why a token is no longer handed out after `app.close()`. */
export function closedError(client: string, attempts = 0): TokenRequestError {
  return new TokenRequestError({
    client,
    code: 'network_error',
    description: 'OAuthModule was closed (application shutdown)',
    attempts,
  });
}

/**
 * Every failure to get a token surfaces as a `TokenRequestError` (a store or a custom strategy may
 * throw anything); the library's own typed errors pass through unchanged. The original is kept as
 * `cause` only by name: its message may hold what a provider sent.
 */
export function asTokenRequestError(error: unknown, client: string): OAuthError {
  if (error instanceof OAuthError) return error;
  const name = error instanceof Error ? error.name : typeof error;
  return new TokenRequestError({
    client,
    code: 'invalid_response',
    description: `unexpected ${name} while getting a token`,
    attempts: 1,
  });
}

/**
 * A custom strategy's own exception, kept as `cause` (same object, so `instanceof` still works)
 * with any form of the client's secret, and the attempt's assertion, taken out of its message and stack.
 */
export function redactedCause(
  error: unknown,
  context: { clientId: string; clientSecret: string; clientAssertion?: string },
): unknown {
  if (!(error instanceof Error)) return error;
  const sensitive = sensitiveValues(context.clientId, context.clientSecret, [context.clientAssertion]);
  const message = redact(error.message, sensitive);
  if (message !== error.message) error.message = message;
  if (typeof error.stack === 'string') {
    const stack = redact(error.stack, sensitive);
    if (stack !== error.stack) error.stack = stack;
  }
  return error;
}
