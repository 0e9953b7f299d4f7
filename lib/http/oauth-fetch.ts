import { Injectable } from '@nestjs/common';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { BearerParticipant } from './bearer-participant.js';
import { chooseClient, readSelection, retriesAfter401, tokenMayFollow } from './bearer-policy.js';
import { TokenService } from '../token.service.js';
import type { OAuthRequestOption, OAuthRequestOptions } from './oauth-request.options.js';
import { apiWantsNonce } from '../dpop/dpop-challenge.js';
import { shallowCopy } from '../common/shallow-copy.js';
import { findHeader, headerRecord, withoutHeaders, type HeaderRecord } from './fetch-headers.js';
import { RequestTargets, type ChosenClient } from './request-targets.js';
import { BearerDispatcher, isNodeFetch, nextDispatcher, type FetchDispatcher } from './fetch-bearer-dispatcher.js';

/** What `fetch` takes as its first argument: a URL string, a `URL` or a `Request`. */
export type FetchInput = string | URL | Request;
type Body = RequestInit['body'];

/** `fetch`'s init, plus the per-request `oauth` option (same forms as on `HttpService` calls). */
export type OAuthFetchInit = RequestInit & { oauth?: OAuthRequestOption };

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** As the fetch standard: past this many hops a redirect chain is a network error. */
const MAX_REDIRECTS = 20;

/** One hop as sent: where, how, with which headers (the token aside) and body. */
interface Hop {
  url: string;
  method: string;
  readonly headers: HeaderRecord;
  body: Body;
}

/** Headers that describe a body: dropped with it when a redirect turns the call into a GET. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/** The final answer of a call, whether its last hop carried the token, and whether with a DPoP proof. */
interface Followed {
  response: Response;
  carried: boolean;
  proved: boolean;
}

/** A call that carries a token (once it has one), with what the rules need to judge its answer. */
interface Carrying<Token = AccessToken> {
  chosen: ChosenClient;
  selection: OAuthRequestOptions;
  origin: string | undefined;
  token: Token;
}

/**
 * The global `fetch` with this module's tokens: `oauthFetch.fetch(input, init?)` takes what
 * `fetch` takes plus `init.oauth`, and can be handed unbound to any library that takes a `fetch`
 * (openapi-fetch, graphql-request, ky). The rules are the ones `HttpService` calls follow
 * (`bearer-policy`); redirects are followed here, hop by hop, so that the token never reaches
 * another origin or a token endpoint. `Response.url` is the final hop's URL.
 */
@Injectable()
export class OAuthFetch {
  private readonly participants: readonly BearerParticipant[];
  private readonly targets: RequestTargets;
  /** The dispatcher of the last first hop, and the init of a call without one: made again when the token changes. */
  private lastDispatched: { dispatcher: BearerDispatcher; bare: RequestInit } | undefined;

  constructor(tokens: TokenService) {
    this.participants = [tokens.participant];
    this.targets = new RequestTargets(this.participants);
  }

  /** Bound to this instance: `fetch: oauthFetch.fetch` works as it is. */
  readonly fetch = (input: FetchInput, init?: OAuthFetchInit): Promise<Response> => {
    // As global `fetch`: a bad input or option rejects the promise, it is never thrown.
    try {
      return this.send(input, init ?? NO_INIT);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  private send(input: FetchInput, init: OAuthFetchInit): Promise<Response> {
    const oauth = init.oauth;
    // Most calls have no `oauth` option: their init goes on as given (it is never changed).
    const rest: RequestInit = 'oauth' in init ? withoutOAuthOption(init) : init;
    const request = input instanceof Request ? input : undefined;
    const headers = headerRecord(request, rest.headers);
    // A caller's own credentials always win, and no token is fetched for them.
    if (oauth === false || findHeader(headers, 'authorization') !== undefined) return fetch(input, rest);

    const url = request?.url ?? (input instanceof URL ? input.href : String(input));
    const selection = readSelection(oauth);
    const target = this.targets.ofUrl(url);
    const chosen = chooseClient(this.participants, target, selection);
    if (chosen === undefined) return fetch(input, rest);
    const token = this.cachedToken(chosen, selection);
    // Most calls: a URL and a cached bearer token. Sent at once, without an async frame around the
    // fetch (each costs a call ~0.3 KB); only a redirect or a 401 answer needs the rules below.
    if (request === undefined && token !== undefined && !chosen.participant.dpopSigner(chosen.client, token)) {
      return this.sendWithCachedToken(url, rest, headers, { chosen, selection, origin: target.origin, token });
    }
    return this.carry(input, rest, request, headers, url, { chosen, selection, origin: target.origin, token });
  }

  private sendWithCachedToken(url: string, init: RequestInit, headers: HeaderRecord, call: Carrying) {
    // Only a first answer that is a redirect or a 401 needs `follow` and `answer`; the rest go back as they are.
    const { participant, client } = call.chosen;
    const authorization = participant.authorization(client, call.token);
    const sent = fetch(url, this.firstHopInit(init, headers, authorization));
    return sent.then((response) =>
      response.status !== 401 && !REDIRECT_STATUSES.has(response.status)
        ? response
        : this.followRules(init, headers, url, call, response),
    );
  }

  /**
   * The first hop's init: the caller's, with a `BearerDispatcher` that adds the token as fetch
   * hands the call to its dispatcher. Where fetch is not Node's own, or there is no dispatcher to pass
   * the call on to yet (Node 20 makes its global one at fetch's first call), the token goes as a header.
   */
  private firstHopInit(init: RequestInit, headers: HeaderRecord, authorization: string): RequestInit {
    const next = isNodeFetch(fetch) ? nextDispatcher(init) : undefined;
    if (next === undefined) return bearerInit(init, headers, authorization);
    let last = this.lastDispatched;
    if (last?.dispatcher.authorization !== authorization || last.dispatcher.next !== next) {
      const dispatcher = new BearerDispatcher(authorization, next);
      // A call without an init (`fetch(url)`) gets one init per token: fetch only reads it (frozen all the same).
      last = this.lastDispatched = { dispatcher, bare: Object.freeze(dispatchedInit(NO_INIT, dispatcher)) };
    }
    return init === NO_INIT ? last.bare : dispatchedInit(init, last.dispatcher);
  }

  /** The rules for a call with a cached bearer token whose first answer is a redirect or a 401. */
  private followRules(init: RequestInit, headers: HeaderRecord, url: string, call: Carrying, response: Response) {
    return this.settle(init, hops(url, methodOf(init), headers, init.body ?? null), call, response);
  }

  /** Every other call: a `Request` (its body read once), no cached token yet, or a DPoP-bound token. */
  private async carry(
    input: FetchInput,
    rest: RequestInit,
    request: Request | undefined,
    headers: HeaderRecord,
    url: string,
    pending: Carrying<AccessToken | undefined>,
  ): Promise<Response> {
    // A Request's body is a stream: read it once, so redirects and a 401 retry can send it again.
    const body = rest.body !== undefined ? rest.body : request?.body ? await request.arrayBuffer() : null;
    const hop = hops(url, methodOf(rest, request), headers, body);
    const options: RequestInit = request === undefined ? rest : { ...requestInit(request), ...rest };

    const { chosen, selection, origin } = pending;
    let token = pending.token;
    if (token === undefined) {
      // Fail closed: if no token can be had, this rejects and nothing is sent.
      token = await this.newToken(chosen, selection);
      // Getting the token may have discovered an issuer's token endpoint: this very URL, perhaps.
      if (this.targets.ofUrl(url).excluded) return fetch(input, rest);
    }
    return this.settle(options, hop, { chosen, selection, origin, token });
  }

  /** Sends the call (or takes its first answer), follows its redirects, then deals with a 401. */
  private async settle(options: RequestInit, hop: () => Hop, call: Carrying, answered?: Response) {
    return this.answer(options, hop, call, await this.follow(options, hop(), call, answered));
  }

  /** What the caller gets, after a DPoP nonce demand or a refused token was dealt with (once each). */
  private async answer(options: RequestInit, hop: () => Hop, call: Carrying, first: Followed): Promise<Response> {
    let { response, carried } = first;
    if (response.status !== 401 || !carried) return response;
    const { chosen, selection, token } = call;
    const { method, body } = hop();
    // RFC 9449 §9: a nonce demand, not a refusal of the token: sent once more with the nonce.
    if (first.proved && isReplayable(body) && apiWantsNonce(401, response.headers.get('www-authenticate'))) {
      chosen.participant.nonceRetried(chosen.client);
      await response.body?.cancel();
      ({ response, carried } = await this.follow(options, hop(), call));
      if (response.status !== 401 || !carried || apiWantsNonce(401, response.headers.get('www-authenticate'))) {
        return response;
      }
    }

    // Only a 401 to a hop that carried our token says the token was refused.
    const retry = retriesAfter401(method, selection.retryOn401, isReplayable(body));
    await chosen.participant.rejected(chosen.client, selection.scope, token.accessToken, retry);
    if (!retry) return response;
    await response.body?.cancel();
    const fresh = await this.newToken(chosen, selection);
    return (await this.follow(options, hop(), { ...call, token: fresh })).response;
  }

  private cachedToken({ participant, client }: ChosenClient, selection: OAuthRequestOptions) {
    return participant.cachedToken(client, selection.scope);
  }

  private newToken({ participant, client }: ChosenClient, selection: OAuthRequestOptions): Promise<AccessToken> {
    return participant.getToken(client, selection.scope);
  }

  /**
   * Sends the call with the token (unless its first answer came already) and follows its redirects
   * as fetch would, dropping the token where it may not go.
   */
  private async follow(init: RequestInit, hop: Hop, call: Carrying, answered?: Response): Promise<Followed> {
    const followsRedirects = (init.redirect ?? 'follow') === 'follow';
    const { participant, client } = call.chosen;
    let headers: HeaderRecord = withHeader(hop.headers, 'authorization', participant.authorization(client, call.token));
    let carried = true;
    const signer = participant.dpopSigner(client, call.token);
    for (let redirects = 0; ; redirects++) {
      let response = answered;
      answered = undefined;
      // A DPoP proof names its request: every hop sent with the token gets its own.
      const proof =
        response === undefined && carried ? signer?.proof(hop.method, hop.url, call.token.accessToken) : undefined;
      if (response === undefined) {
        const request = hopInit(init, proof === undefined ? headers : withHeader(headers, 'dpop', proof));
        // Only what differs from the caller's init (a `Request`'s, or after a 303): fetch does less with fewer keys.
        if (hop.method !== methodOf(init)) request.method = hop.method;
        if (hop.body !== (init.body ?? null)) request.body = hop.body;
        response = await fetch(hop.url, request);
      }
      const proved = proof !== undefined;
      if (proved) participant.dpopNonce(client, hop.url, response.headers.get('dpop-nonce'));
      // Most answers are no redirect: the status decides before any header is read.
      if (!followsRedirects || !REDIRECT_STATUSES.has(response.status)) return { response, carried, proved };
      const location = response.headers.get('location');
      if (location === null) return { response, carried, proved };
      if (redirects >= MAX_REDIRECTS) throw new TypeError('fetch failed: too many redirects');
      await response.body?.cancel();
      const next = new URL(location, hop.url);
      if (carried && !tokenMayFollow(this.participants, call.origin, next)) {
        headers = withoutHeaders(headers, ['authorization']);
        carried = false;
      }
      // 303, and 301/302 after a POST, continue as a GET without a body (as fetch does).
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && hop.method === 'POST')) {
        hop.method = 'GET';
        hop.body = null;
        headers = withoutHeaders(headers, BODY_HEADERS);
      } else if (!isReplayable(hop.body)) {
        throw new TypeError('fetch failed: cannot follow a redirect with a stream body');
      }
      hop.url = next.href;
    }
  }
}
/** The method a call is sent with, in upper case (as the rules compare methods). */
function methodOf(init: RequestInit, request?: Request): string {
  return (init.method ?? request?.method ?? 'GET').toUpperCase();
}

/** Makes a call's first hop afresh each time it is sent again (redirects change a hop as they go). */
function hops(url: string, method: string, headers: HeaderRecord, body: Body): () => Hop {
  return () => ({ url, method, headers, body });
}

/** A call without an init: one shared, never changed. */
const NO_INIT: OAuthFetchInit = Object.freeze({});

/** The first hop's init of a bearer call: the caller's init and headers, plus the token. */
function bearerInit(init: RequestInit, headers: HeaderRecord, authorization: string): RequestInit {
  return hopInit(init, withHeader(headers, 'authorization', authorization));
}

/** A hop's init: the caller's, with these headers, following redirects here (`manual`) where fetch would have. */
function hopInit(init: RequestInit, headers: HeaderRecord): RequestInit {
  const request = redirectedHere(init);
  request.headers = headers;
  return request;
}

/** A copy of the caller's init that leaves redirects to `OAuthFetch` (`manual`) where fetch would follow them. */
function redirectedHere(init: RequestInit): RequestInit {
  const request = shallowCopy(init);
  if ((init.redirect ?? 'follow') === 'follow') request.redirect = 'manual';
  return request;
}

/** The first hop's init on Node's fetch: the caller's, with this dispatcher in place of a header. */
function dispatchedInit(init: RequestInit, dispatcher: BearerDispatcher): RequestInit {
  const request = redirectedHere(init);
  (request as { dispatcher?: FetchDispatcher }).dispatcher = dispatcher;
  return request;
}

function withoutOAuthOption(init: OAuthFetchInit): RequestInit {
  const rest = shallowCopy(init);
  delete rest.oauth;
  return rest;
}

/** A copy of `headers` with one more (a lower-case name the caller's headers do not set). */
function withHeader(headers: HeaderRecord, name: string, value: string): HeaderRecord {
  const copy: Record<string, string> = shallowCopy(headers);
  copy[name] = value;
  return copy;
}

/** Bodies that can be sent again as the same bytes: everything but a stream. */
function isReplayable(body: Body): boolean {
  return body === null || body === undefined || (!(body instanceof ReadableStream) && !isAsyncIterable(body));
}

function isAsyncIterable(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body && !(body instanceof Blob);
}

/** What a Request carries besides URL, method, headers and body, as far as Node's fetch uses it. */
function requestInit(request: Request): RequestInit {
  return { keepalive: request.keepalive, redirect: request.redirect, signal: request.signal };
}
