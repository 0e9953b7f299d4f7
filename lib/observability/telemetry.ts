import type * as OTel from '@opentelemetry/api';
import type { OAuthEventListener, TokenRequestDetail } from './oauth-events.js';
import type { CacheLookupResult, OAuthEvent } from './oauth-event.js';

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
  private readonly lookups: OTel.Counter;
  private readonly retries: OTel.Counter;
  private readonly tracer: OTel.Tracer;
  /** Attribute sets of the hot path, made once per client and result (no allocation per lookup). */
  private readonly lookupAttributes = new Map<string, Record<CacheLookupResult, OTel.Attributes>>();

  constructor(
    private readonly api: Api,
    version: string,
    timeToExpiry: TimeToExpiry,
  ) {
    const meter = api.metrics.getMeter(INSTRUMENTATION_NAME, version);
    this.requests = meter.createCounter('oauth.client.token.requests', {
      unit: '{request}',
      description: 'Token requests made to token endpoints, by outcome',
    });
    this.duration = meter.createHistogram('oauth.client.token.duration', {
      unit: 's',
      description: 'Time to get a token from a token endpoint, retries included',
    });
    this.lookups = meter.createCounter('oauth.client.token.cache.lookups', {
      unit: '{lookup}',
      description: 'Token cache lookups, by result',
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

  onLookup(client: string, result: CacheLookupResult): void {
    let attributes = this.lookupAttributes.get(client);
    if (attributes === undefined) {
      const of = (r: CacheLookupResult) => Object.freeze({ 'oauth.client': client, result: r });
      attributes = { hit: of('hit'), miss: of('miss'), stale: of('stale') };
      this.lookupAttributes.set(client, attributes);
    }
    this.lookups.add(1, attributes[result]);
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
