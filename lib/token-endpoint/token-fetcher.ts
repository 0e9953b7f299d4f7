import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { ResolvedClient } from '../config/resolved-client.js';
import { fingerprint } from '../common/fingerprint.js';
import { TokenRequestError, type TokenRequestErrorDetails } from '../errors/token-request.error.js';
import type { LibraryClock } from '../common/system-clock.js';
import { strategyName } from '../common/strategy-name.js';
import { OAUTH_CLOCK, OAUTH_LOGGER, LOG_CONTEXT } from '../oauth.constants.js';
import type { StoredToken } from '../stores/token-store.interface.js';
import { asString } from '../common/values.js';
import type {
  TokenHttpRequest,
  TokenHttpResponse,
  TokenRequestContext,
} from '../strategies/token-strategy.interface.js';
import { backoffDelay, codeForStatus, isRetryable, parseRetryAfter } from './error-classification.js';
import { redact, sensitiveValues, snippet } from './redact.js';
import { closedError, redactedCause } from './token-errors.js';
import { RecentTokens } from '../token-cache/recent-tokens.js';
import { computeExpiry } from './token-expiry.js';
import { TokenHttpClient, TransportFailure } from './token-http.client.js';
import type { ClientAuthOptions } from '../client-auth/client-auth.options.js';
import { DiscoveryFailure } from '../client-auth/issuer-metadata.js';
import type { PrivateKeyInput } from '../client-auth/client-auth.options.js';
import { ProvidedKeyError } from '../client-auth/client-auth.js';
import { fromProvider, readCredentials, sameCredentials, type AttemptCredentials } from './credential-provider.js';
import { logMessages } from '../observability/log-messages.js';
import { OAuthEvents } from '../observability/oauth-events.js';
import { tokenEndpointWantsNonce } from '../dpop/dpop-challenge.js';
import type { DpopProofs } from '../dpop/dpop-proofs.js';
import { DpopSigners } from '../dpop/dpop-signers.js';

/** Why one attempt got no token; `cause` is a custom strategy's own exception. */
type Failure = Omit<TokenRequestErrorDetails, 'attempts' | 'client'> & { cause?: unknown };

/** Where the last attempt went and what it was answered, for the span of the request. */
interface AttemptTrace {
  url?: string;
  status?: number;
}

/** The parts of a token request context that stay the same across attempts. */
type AttemptRequest = Omit<TokenRequestContext, 'tokenUrl' | 'clientAssertion'>;

/**
 * Gets one token from a client's token endpoint: builds the dialect's request, retries what may
 * succeed later (bounded, backoff with full jitter, provider hints honoured) and turns every
 * other outcome into a `TokenRequestError` that carries no secret and no token.
 */
@Injectable()
export class TokenFetcher {
  constructor(
    private readonly http: TokenHttpClient,
    private readonly recent: RecentTokens,
    private readonly events: OAuthEvents,
    private readonly dpop: DpopSigners,
    @Inject(OAUTH_CLOCK) private readonly clock: LibraryClock,
    @Inject(OAUTH_LOGGER) private readonly logger: LoggerService,
  ) {}

  /** `closed` aborts the attempt in flight and starts no other (the module is shutting down). */
  async fetch(client: ResolvedClient, scope: readonly string[], closed?: AbortSignal): Promise<StoredToken> {
    const started = this.clock.now();
    const trace: AttemptTrace = {};
    const detail = () => ({ serverAddress: hostOf(trace.url), status: trace.status });
    try {
      const { stored, attempts } = await this.withRetries(client, scope, trace, closed);
      const { accessToken, expiresAt } = stored.token;
      const durationMs = this.clock.now() - started;
      const token = { client: client.name, durationMs, attempts, expiresAt, fingerprint: fingerprint(accessToken) };
      this.events.emit({ type: 'token_fetched', ...token, source: 'endpoint' }, detail());
      return stored;
    } catch (error) {
      if (error instanceof TokenRequestError) {
        const { code, status, attempts } = error;
        const failed = { client: client.name, code, attempts, durationMs: this.clock.now() - started };
        this.events.emit({ type: 'token_failed', ...failed, ...(status === undefined ? {} : { status }) }, detail());
      }
      throw error;
    }
  }

  private async withRetries(
    client: ResolvedClient,
    scope: readonly string[],
    trace: AttemptTrace,
    closed?: AbortSignal,
  ): Promise<{ stored: StoredToken; attempts: number }> {
    const { clientId, clientSecret: secret } = client.credentials;
    const { retry, timeoutMs } = client.policy;
    const keyProvider = client.auth.keyProvider;
    // After an invalid_client, providers are asked once more; a changed value is tried once (a rotation).
    let rotationTried = false;
    let rotated: AttemptCredentials | undefined;

    for (let attempt = 1; ; attempt++) {
      const credentials = rotated ?? (await readCredentials(secret, keyProvider, timeoutMs, closed));
      rotated = undefined;
      const outcome: StoredToken | Failure =
        'code' in credentials
          ? credentials
          : await this.attempt(
              client,
              { client: client.name, options: client.options, clientId, clientSecret: credentials.clientSecret, scope },
              attempt,
              trace,
              closed,
              credentials.privateKey,
            );
      if (closed?.aborted) throw closedError(client.name, attempt);
      if ('token' in outcome) return { stored: outcome, attempts: attempt };
      if (outcome.code === 'invalid_client' && !rotationTried && !('code' in credentials)) {
        if (fromProvider(secret, keyProvider)) {
          rotationTried = true;
          const again = await readCredentials(secret, keyProvider, timeoutMs, closed);
          if (!('code' in again) && !sameCredentials(credentials, again)) {
            rotated = again;
            this.logger.warn(logMessages.secretRotated(client.name), LOG_CONTEXT);
            continue;
          }
        }
      }
      // The endpoint may have moved: the next attempt (or request) reads the issuer's metadata again.
      if (outcome.code === 'network_error' || outcome.status === 404) client.issuer?.forget();

      const hint = outcome.retryAfterMs;
      const error = ({ cause, ...failure }: Failure) =>
        new TokenRequestError(
          { ...failure, client: client.name, attempts: attempt },
          cause === undefined ? undefined : { cause },
        );
      if (!isRetryable(outcome.code, outcome.status) || attempt >= retry.maxAttempts) throw error(outcome);
      if (hint !== undefined && hint > retry.maxRetryAfterMs) {
        throw error({ ...outcome, code: outcome.code === 'temporarily_unavailable' ? outcome.code : 'rate_limited' });
      }
      const delay = hint ?? backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs);
      this.logger.warn(logMessages.retrying(client.name, outcome.code, delay), LOG_CONTEXT);
      await this.clock.sleep(delay, closed);
      if (closed?.aborted) throw closedError(client.name, attempt);
    }
  }

  private async attempt(
    client: ResolvedClient,
    base: AttemptRequest,
    attempt: number,
    trace: AttemptTrace,
    closed?: AbortSignal,
    privateKey?: PrivateKeyInput,
  ): Promise<StoredToken | Failure> {
    const timeoutMs = client.policy.timeoutMs;
    const tokenUrl = await this.tokenUrl(client, closed);
    if (typeof tokenUrl !== 'string') return tokenUrl;
    trace.url = tokenUrl;
    trace.status = undefined;
    this.logger.debug?.(logMessages.requesting(client.name, tokenUrl, attempt), LOG_CONTEXT);
    const clientAssertion = await this.assertion(client, base, tokenUrl, privateKey);
    if (typeof clientAssertion === 'object') return clientAssertion;
    const context: TokenRequestContext = {
      ...base,
      tokenUrl,
      ...(clientAssertion === undefined ? {} : { clientAssertion }),
    };
    let request: TokenHttpRequest;
    try {
      request = client.strategy.buildRequest(context);
    } catch (error) {
      const cause = redactedCause(error, context);
      return {
        code: 'invalid_request',
        description: `the ${strategyName(client.options.strategy)} strategy could not build a request`,
        cause,
      };
    }
    let response: TokenHttpResponse;
    try {
      const proofs = this.dpop.of(client);
      response = await this.send(request, timeoutMs, closed, client, proofs);
      // RFC 9449 §8: a server that wants a nonce answers 400 use_dpop_nonce with one; asked once more with it.
      if (proofs !== undefined && tokenEndpointWantsNonce(response.status, response.json)) {
        response = await this.send(request, timeoutMs, closed, client, proofs);
      }
    } catch (error) {
      if (error instanceof TransportFailure) return { code: error.kind, description: error.message };
      throw error;
    }
    const received = this.clock.now();
    trace.status = response.status;
    try {
      return response.status >= 200 && response.status < 300
        ? this.readToken(client, context, response, received)
        : this.readFailure(client, context, response, received);
    } catch (error) {
      const cause = redactedCause(error, context);
      const dialect = strategyName(client.options.strategy);
      const description = `the ${dialect} strategy could not read the token endpoint's answer`;
      return { code: 'invalid_response', status: response.status, description, cause };
    }
  }

  /** One token request as sent, with a fresh DPoP proof for a DPoP client (whose nonce it remembers). */
  private async send(
    request: TokenHttpRequest,
    timeoutMs: number,
    closed: AbortSignal | undefined,
    client: ResolvedClient,
    proofs: DpopProofs | undefined,
  ): Promise<TokenHttpResponse> {
    if (proofs === undefined) return this.http.send(request, timeoutMs, closed, client.policy.transport);
    const proved = { ...request, headers: { ...request.headers, dpop: proofs.proof(request.method, request.url) } };
    const response = await this.http.send(proved, timeoutMs, closed, client.policy.transport);
    proofs.sawAnswer(request.url, response.headers['dpop-nonce']);
    return response;
  }

  /** The configured token URL, or the one the issuer's metadata names (fetched when not cached). */
  private async tokenUrl(client: ResolvedClient, closed: AbortSignal | undefined): Promise<string | Failure> {
    if (client.issuer === undefined) return client.tokenUrl!;
    const { timeoutMs, transport } = client.policy;
    const fetchMetadata = (url: string) => {
      this.logger.debug?.(logMessages.readingIssuerMetadata(client.name, url), LOG_CONTEXT);
      return this.http.send(
        { method: 'GET', url, headers: { accept: 'application/json' } },
        timeoutMs,
        closed,
        transport,
      );
    };
    try {
      return await client.issuer.tokenUrl(fetchMetadata, this.clock.now());
    } catch (error) {
      if (error instanceof TransportFailure) {
        return { code: error.kind, description: `the issuer's metadata could not be read: ${error.message}` };
      }
      if (error instanceof DiscoveryFailure) {
        return { code: error.code, status: error.status, description: error.message };
      }
      throw error;
    }
  }

  /** This attempt's `client_assertion` (a fresh `jti`), for the JWT methods; a failure names no value. */
  private async assertion(
    client: ResolvedClient,
    base: AttemptRequest,
    tokenUrl: string,
    privateKey: PrivateKeyInput | undefined,
  ): Promise<string | undefined | Failure> {
    const make = client.auth.assertion;
    if (make === undefined) return undefined;
    const { clientId, clientSecret } = base;
    const request = { client: client.name, clientId, clientSecret, tokenUrl, now: this.clock.now() };
    try {
      return await make(privateKey === undefined ? request : { ...request, privateKey });
    } catch (error) {
      if (error instanceof ProvidedKeyError) {
        return { code: 'invalid_request', description: `no client assertion: the provided key: ${error.message}` };
      }
      const external = (client.options as ClientAuthOptions).clientAssertion !== undefined;
      const what = external ? 'the clientAssertion function' : 'signing';
      const name = error instanceof Error ? error.name : typeof error;
      return {
        code: 'invalid_request',
        description: `no client assertion: ${what} failed (${name})`,
        cause: redactedCause(error, base),
      };
    }
  }

  private readToken(
    client: ResolvedClient,
    context: TokenRequestContext,
    response: TokenHttpResponse,
    now: number,
  ): StoredToken | Failure {
    const raw = client.strategy.readToken(response, context);
    const accessToken = typeof raw.accessToken === 'string' ? raw.accessToken.trim() : '';
    if (accessToken.length === 0) {
      const failure = this.readFailure(client, context, response, now);
      return failure.code === 'invalid_response' && failure.description === undefined
        ? { ...failure, description: 'the token endpoint answered without an access token' }
        : failure;
    }
    const expiry = computeExpiry(raw.expiresIn, accessToken, now, client.policy.defaultTtlMs);
    if (!expiry.ok) return { code: 'invalid_response', status: response.status, description: expiry.problem };
    if (expiry.source === 'default') {
      this.logger.warn(logMessages.noExpiresIn(client.name, client.policy.defaultTtlMs / 1000), LOG_CONTEXT);
    }
    const tokenType = asString(raw.tokenType) ?? 'Bearer';
    const scope = asString(raw.scope);
    this.recent.add(accessToken);
    return {
      token: { accessToken, tokenType, expiresAt: expiry.expiresAt, ...(scope === undefined ? {} : { scope }) },
      obtainedAt: now,
    };
  }

  private readFailure(
    client: ResolvedClient,
    context: TokenRequestContext,
    response: TokenHttpResponse,
    now: number,
  ): Failure {
    const provider = client.strategy.readError(response, context);
    const carriedToken = client.strategy.readToken(response, context).accessToken;
    const sensitive = sensitiveValues(context.clientId, context.clientSecret, [
      asString(carriedToken),
      context.clientAssertion,
    ]);
    const headerHint = parseRetryAfter(response.headers['retry-after'], now);
    const hints = [headerHint, provider.retryAfterMs].filter(
      (h): h is number => h !== undefined && Number.isFinite(h) && h >= 0,
    );
    const ok = response.status >= 200 && response.status < 300;
    // A provider may echo the request into any field it answers with, its code included.
    const scrub = (text: string | undefined) =>
      text === undefined ? undefined : redact(text, sensitive, this.recent.all);
    return {
      code: provider.code ?? codeForStatus(response.status),
      status: response.status,
      description: scrub(provider.description),
      providerCode: scrub(provider.providerCode),
      retryAfterMs: hints.length > 0 ? Math.max(...hints) : undefined,
      bodySnippet: response.json === undefined || ok ? snippet(response.text, sensitive, this.recent.all) : undefined,
    };
  }
}

/** The host a token request went to (for telemetry); never its path or query. */
function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}
