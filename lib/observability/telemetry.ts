import type * as OTel from '@opentelemetry/api';
import type { LookupCounters } from './lookup-counters.js';
import type { OAuthEventListener, TokenRequestDetail } from './oauth-events.js';
import type { CacheLookupResult, OAuthEvent } from './oauth-event.js';

const LOOKUP_RESULTS: readonly CacheLookupResult[] = ['hit', 'miss', 'stale'];

/** The instrumentation scope of every meter and tracer of this library. */
export const INSTRUMENTATION_NAME = 'nestjs-client-credentials';

type Api = typeof OTel;

/** `@opentelemetry/api` if the app has it (an optional peer); without it nothing is recorded. */
export async function loadOpenTelemetry(): Promise<Api | undefined> {
  try {
    return (await import('@opentelemetry/api')) as Api;
  } catch {
    return undefined;
  }
}

/** Seconds until expiry of each client's soonest-expiring cached token, by the module's clock. */
export type TimeToExpiry = () => Iterable<readonly [client: string, seconds: number]>;

/**
 * The module's events as OpenTelemetry metrics and spans (names, units and attributes as the docs
 * list them). Attributes name the client, never a token, secret, assertion or scope value.
 */
export class OAuthTelemetry implements OAuthEventListener {
  private readonly requests: OTel.Counter;
  private readonly duration: OTel.Histogram;
  private readonly retries: OTel.Counter;
  private readonly tracer: OTel.Tracer;

  constructor(
    private readonly api: Api,
    version: string,
    timeToExpiry: TimeToExpiry,
    /** Counted on the hot path, observed here when the SDK collects (an SDK counter costs microseconds a call). */
    lookups: LookupCounters,
  ) {
    const meter = api.metrics.getMeter(INSTRUMENTATION_NAME, version);
    this.requests = meter.createCounter('oauth.client.token.requests', {
      unit: '{request}',
      description: 'Token requests made to token endpoints, by outcome',
    });
    this.duration = meter.createHistogram('oauth.client.token.duration', {
      unit: 's',
      description: 'Time to get a token from a token endpoint, retries included',
      // The semantic conventions' buckets for HTTP client durations, in seconds (the SDK's default is for ms).
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
    });
    meter
      .createObservableCounter('oauth.client.token.cache.lookups', {
        unit: '{lookup}',
        description: 'Token cache lookups, by result',
      })
      .addCallback((result) => {
        for (const [client, counts] of lookups.entries()) {
          for (const outcome of LOOKUP_RESULTS) {
            if (counts[outcome] > 0) result.observe(counts[outcome], { 'oauth.client': client, result: outcome });
          }
        }
      });
    this.retries = meter.createCounter('oauth.client.request.retries', {
      unit: '{retry}',
      description: 'Outgoing calls sent again, by reason',
    });
    meter
      .createObservableGauge('oauth.client.token.time_to_expiry', {
        unit: 's',
        description: "Seconds until the client's soonest-expiring cached token expires",
      })
      .addCallback((result) => {
        for (const [client, seconds] of timeToExpiry()) result.observe(seconds, { 'oauth.client': client });
      });
    this.tracer = api.trace.getTracer(INSTRUMENTATION_NAME, version);
  }

  onEvent(event: OAuthEvent, detail: TokenRequestDetail | undefined): void {
    switch (event.type) {
      case 'token_fetched':
        if (event.source === 'endpoint') this.tokenRequest(event, undefined, event.attempts, detail);
        return;
      case 'token_failed':
        this.tokenRequest(event, event.code, event.attempts, detail);
        return;
      case 'request_retried':
        this.retries.add(1, { 'oauth.client': event.client, reason: event.reason });
        return;
      default:
    }
  }

  /** One finished token request: its counter, its duration and its span (drawn after the fact). */
  private tokenRequest(
    event: { client: string; durationMs: number; at: number },
    errorCode: string | undefined,
    attempts: number,
    detail: TokenRequestDetail | undefined,
  ): void {
    const client = { 'oauth.client': event.client };
    this.requests.add(
      1,
      errorCode === undefined
        ? { ...client, outcome: 'success' }
        : { ...client, outcome: 'error', 'error.type': errorCode },
    );
    this.duration.record(event.durationMs / 1000, client);
    const span = this.tracer.startSpan('oauth.token_request', {
      kind: this.api.SpanKind.CLIENT,
      startTime: event.at - event.durationMs,
      attributes: {
        ...client,
        'oauth.attempts': attempts,
        ...(detail?.serverAddress === undefined ? {} : { 'server.address': detail.serverAddress }),
        ...(detail?.status === undefined ? {} : { 'http.response.status_code': detail.status }),
      },
    });
    if (errorCode !== undefined) {
      span.setAttribute('error.type', errorCode);
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: errorCode });
    }
    span.end(event.at);
  }
}
