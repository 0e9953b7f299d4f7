/**
 * The rules of bearer tokens on outgoing calls, whatever the transport: which client's token a
 * call gets, when a caller's own credentials win, where a redirect may carry the token, and when a
 * 401 means our token was refused and the call may be retried. Pure functions over a small
 * description of the call; each transport (axios, fetch, undici) is a thin adapter over them.
 */
import { configMessages } from '../errors/messages.js';
import { OAuthConfigError } from '../errors/oauth-config.error.js';
import type { BearerParticipant } from './bearer-participant.js';
import type { OAuthRequestOption, OAuthRequestOptions } from './oauth-request.options.js';
import type { ChosenClient, RequestTarget } from './request-targets.js';

/** No `oauth` option: the `attachTo` match decides. Shared, since most calls have none. */
export const NO_SELECTION: OAuthRequestOptions = Object.freeze({});

/** A call with no URL to match (a Unix socket): only an explicit `oauth` client applies. */
export const NO_URL_TARGET: RequestTarget = Object.freeze({ origin: undefined, excluded: false, matched: undefined });

const IDEMPOTENT_METHODS = new Set(['get', 'head', 'options', 'put', 'delete']);

/** The per-request `oauth` option in its object form; a malformed one is a typed error. */
export function readSelection(option: OAuthRequestOption | undefined): OAuthRequestOptions {
  if (option === undefined) return NO_SELECTION;
  if (typeof option === 'string') return { client: option };
  if (typeof option === 'object' && option !== null) {
    if (option.client !== undefined && typeof option.client !== 'string') {
      throw new OAuthConfigError(
        configMessages.invalidOption(undefined, 'oauth.client', 'must be a client name'),
        undefined,
        'oauth',
      );
    }
    return option;
  }
  const problem = 'must be a client name, false or { client?, scope?, retryOn401? }';
  throw new OAuthConfigError(configMessages.invalidOption(undefined, 'oauth', problem), undefined, 'oauth');
}

/**
 * The client whose token the call carries: the one named in the call's option, else the one whose
 * `attachTo` matches; none for a token endpoint or a URL with its own credentials (`excluded`).
 * A caller's own `Authorization` is checked before (it always wins, and no token is fetched).
 */
export function chooseClient(
  participants: readonly BearerParticipant[],
  target: RequestTarget,
  selection: OAuthRequestOptions,
): ChosenClient | undefined {
  const chosen = selection.client !== undefined ? clientByName(participants, selection.client) : target.matched;
  return chosen === undefined || target.excluded ? undefined : chosen;
}

/** The participant that has a client of that name, or a typed error naming it. */
export function clientByName(participants: readonly BearerParticipant[], client: string): ChosenClient {
  const participant = participants.find((p) => p.knows(client));
  if (participant === undefined) throw new OAuthConfigError(configMessages.unknownClient(client), client);
  return { participant, client };
}

/**
 * Whether the token may go along to the next redirect hop: only to the origin it was attached for,
 * and never to a token endpoint of any client, even there.
 */
export function tokenMayFollow(
  participants: readonly BearerParticipant[],
  origin: string | undefined,
  next: URL | undefined,
): boolean {
  return origin !== undefined && next?.origin === origin && !participants.some((p) => p.isTokenEndpoint(next));
}

/**
 * After a 401 to a call that carried our token (not one whose token a redirect dropped): retry
 * once with a fresh token for idempotent methods, or when the call opted in; never when it opted
 * out or its body cannot be sent again.
 */
export function retriesAfter401(
  method: string | undefined,
  retryOn401: boolean | undefined,
  replayableBody: boolean,
): boolean {
  if (retryOn401 === false || !replayableBody) return false;
  return retryOn401 === true || IDEMPOTENT_METHODS.has((method ?? 'get').toLowerCase());
}
