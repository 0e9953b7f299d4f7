import type { InternalAxiosRequestConfig } from 'axios';
import { attachRules } from '../common/attach-rules.js';
import { parseRequestUrl } from './attach-to.matcher.js';
import type { BearerParticipant } from './bearer-participant.js';

/** A client and the participant (OAuthModule instance) that owns it. */
export interface ChosenClient {
  readonly participant: BearerParticipant;
  readonly client: string;
}

/** What a request URL decides about bearer tokens, the same for every request to that URL. */
export interface RequestTarget {
  /** WHATWG origin of the URL; `undefined` when it cannot be parsed (relative without `baseURL`). */
  readonly origin: string | undefined;
  /**
   * Never gets a bearer: the URL carries its own credentials (axios turns them into Basic) or is
   * one of the clients' token endpoints.
   */
  readonly excluded: boolean;
  /** The participant and client whose `attachTo` prefix matches, longest prefix first. */
  readonly matched: ChosenClient | undefined;
}

/**
 * Entries kept before the memo starts over. Services call a handful of URLs over and over; one
 * that puts ids in paths keeps adding new ones, so the memo is bounded and simply cleared when full.
 */
const MAX_TARGETS = 1024;

/**
 * Resolves request URLs to {@link RequestTarget}s for one axios instance, and remembers them: a
 * request to a URL seen before costs one `Map` lookup instead of a URL parse and a prefix match.
 * Cleared whenever a participant joins or leaves, since its `attachTo` prefixes change the answer.
 */
export class RequestTargets {
  private readonly memo = new Map<string, RequestTarget>();
  /** undici's calls, by origin then path: no URL string is built (and hashed) for a call seen before. */
  private readonly byOrigin = new Map<string, Map<string, RequestTarget>>();
  private byOriginSize = 0;
  /**
   * A client added or removed at runtime, or a discovered token endpoint, changes what a remembered
   * URL decides: the memo starts over when the rules' generation moves.
   */
  private generation = attachRules.generation;

  constructor(private readonly participants: readonly BearerParticipant[]) {}

  /** The target of an axios request, from its config as axios's http adapter resolves it. */
  of(config: InternalAxiosRequestConfig): RequestTarget {
    return this.ofUrl(fullPath(config));
  }

  /** The target of an absolute URL (a relative one matches nothing). */
  ofUrl(path: string): RequestTarget {
    this.startOverIfRulesMoved();
    let target = this.memo.get(path);
    if (target === undefined) {
      if (this.memo.size >= MAX_TARGETS) this.memo.clear();
      target = this.resolve(path);
      this.memo.set(path, target);
    }
    return target;
  }

  /**
   * The target of `origin` + `path` (undici's dispatch options): two lookups on strings a caller
   * usually passes as they were (their hashes cached in them), where joining them would make a
   * new string to hash on every call.
   */
  ofOriginPath(origin: string, path: string): RequestTarget {
    this.startOverIfRulesMoved();
    let paths = this.byOrigin.get(origin);
    let target = paths?.get(path);
    if (target !== undefined) return target;
    if (this.byOriginSize >= MAX_TARGETS) {
      this.clear();
      paths = undefined;
    }
    if (paths === undefined) this.byOrigin.set(origin, (paths = new Map()));
    target = this.resolve(joinOriginPath(origin, path));
    paths.set(path, target);
    this.byOriginSize++;
    return target;
  }

  clear(): void {
    this.memo.clear();
    this.byOrigin.clear();
    this.byOriginSize = 0;
  }

  private startOverIfRulesMoved(): void {
    if (this.generation !== attachRules.generation) {
      this.generation = attachRules.generation;
      this.clear();
    }
  }

  private resolve(path: string): RequestTarget {
    const url = parseRequestUrl(path);
    if (url === undefined) return { origin: undefined, excluded: false, matched: undefined };
    const excluded =
      url.username !== '' || url.password !== '' || this.participants.some((p) => p.isTokenEndpoint(url));
    let matched: RequestTarget['matched'];
    let longest = -1;
    for (const participant of this.participants) {
      const match = participant.match(url);
      if (match !== undefined && match.length > longest) {
        longest = match.length;
        matched = { participant, client: match.client };
      }
    }
    return { origin: url.origin, excluded, matched };
  }
}

/** undici's request URL: `origin` + `path`, without doubling the slash between them. */
export function joinOriginPath(origin: string, path: string): string {
  return origin.endsWith('/') ? origin.slice(0, -1) + path : origin + path;
}

/**
 * The URL the request goes to, as axios's http adapter builds it (`buildFullPath`). The config an
 * interceptor sees is already merged with the instance defaults, so `axios.getUri(config)` (which
 * merges them again, ~15 µs a call) is not needed. The query string stays in (it is part of the
 * memo key, which is cheaper than cutting it off), but does not change the target.
 */
export function fullPath(config: InternalAxiosRequestConfig): string {
  const { baseURL, url = '' } = config;
  if (!baseURL || (config.allowAbsoluteUrls !== false && ABSOLUTE_URL.test(url))) return url;
  // axios's own joining rule (combineURLs drops at most two slashes), not ours: the URL must be axios's.
  return url ? `${baseURL.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}` : baseURL;
}

const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i;
