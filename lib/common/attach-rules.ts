/**
 * Bumped whenever what decides a request URL's token may have changed: a client added, replaced or
 * removed at runtime (`OAuthClients`), or a token endpoint discovered from an issuer learnt or
 * moved. The transports remember per URL which client applies and whether it is a token endpoint;
 * they start over when this changes, which costs one number compare per call.
 */
export const attachRules = { generation: 0 };
