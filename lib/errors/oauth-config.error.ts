import { OAuthError } from './oauth.error.js';

/** One invalid option: which client (none for a module-wide option), which option key, what is wrong. */
export interface OAuthConfigIssue {
  client?: string;
  field?: string;
  problem: string;
}

/**
 * Bad module or client options, thrown while the app boots (or by a runtime call naming an
 * unknown client). Names the client and the option key; never prints an option's value. At boot
 * it carries every problem found (`issues`), the first one in `client` and `field`.
 */
export class OAuthConfigError extends OAuthError {
  readonly issues: readonly OAuthConfigIssue[];

  constructor(
    message: string,
    readonly client?: string,
    readonly field?: string,
    issues?: readonly OAuthConfigIssue[],
  ) {
    super(message);
    this.issues = issues ?? [{ client, field, problem: message }];
  }

  toJSON() {
    return { name: this.name, message: this.message, client: this.client, field: this.field, issues: this.issues };
  }
}
