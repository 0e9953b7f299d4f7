/**
 * Bumped whenever a token endpoint discovered from an issuer is learnt or moves. The transports
 * remember per URL whether it is a token endpoint; they start over when this changes, which costs
 * one number compare per call and happens about once per issuer per day.
 */
export const discoveredEndpoints = { generation: 0 };
