import { OAuthError } from './oauth.error.js';

/**
 * Bad module or client options, thrown while the app boots (or by a runtime call naming an
 * unknown client). Names the client and the option key; never prints an option's value.
 */
export class OAuthConfigError extends OAuthError {
  constructor(
    message: string,
    readonly client?: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toJSON() {
    return { name: this.name, message: this.message, client: this.client, field: this.field };
  }
}
