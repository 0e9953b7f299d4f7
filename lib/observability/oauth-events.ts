import { Inject, Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { LibraryClock } from '../common/system-clock.js';
import { OAUTH_CLOCK } from '../oauth.constants.js';
import type { OAuthEvent } from './oauth-event.js';

/** An event as its source reports it; the seam stamps `at` from the module's clock. */
export type UnstampedEvent = OAuthEvent extends infer E ? (E extends OAuthEvent ? Omit<E, 'at'> : never) : never;

/** What a token request told the transport, for telemetry only (never in `events$`). */
export interface TokenRequestDetail {
  /** Host of the token endpoint. */
  readonly serverAddress?: string;
  /** Status of the last answer, when there was one. */
  readonly status?: number;
}

/**
 * A listener on the module's events: logging, `events$`, metrics and traces are each one.
 * It runs inside the token layer, so it must not throw (a throw is swallowed) and must not block.
 */
export interface OAuthEventListener {
  onEvent(event: OAuthEvent, detail: TokenRequestDetail | undefined): void;
}

/**
 * The one seam every part of the module reports through (the token service, the fetcher, the
 * store and every transport adapter). Never called on the cached-token hot path, which only
 * increments a lookup count (`LookupCounters`).
 */
@Injectable()
export class OAuthEvents {
  private readonly listeners: OAuthEventListener[] = [];
  private readonly subject = new Subject<OAuthEvent>();
  /** Hot, no replay: a subscriber sees what happens after it subscribed. */
  readonly events$ = this.subject.asObservable();

  constructor(@Inject(OAUTH_CLOCK) private readonly clock: LibraryClock) {}

  listen(listener: OAuthEventListener): void {
    this.listeners.push(listener);
  }

  emit(unstamped: UnstampedEvent, detail?: TokenRequestDetail): void {
    const event = { ...unstamped, at: this.clock.now() } as OAuthEvent;
    for (const listener of this.listeners) {
      try {
        listener.onEvent(event, detail);
      } catch {
        // A listener's failure is its own; the token layer goes on.
      }
    }
    this.subject.next(event);
  }

  /** No event after the module closed. */
  complete(): void {
    this.subject.complete();
  }
}
