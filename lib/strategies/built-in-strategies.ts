import { AlternativePaymentsStrategy } from './alternative-payments.strategy.js';
import { FirstVisionStrategy } from './firstvision.strategy.js';
import { OAuth2Strategy } from './oauth2.strategy.js';
import { PalisadeStrategy } from './palisade.strategy.js';
import { YouHodlerStrategy } from './youhodler.strategy.js';

/**
 * The registry of dialects selectable by name in `strategy: '…'`: every list of names (types,
 * validation, messages, emulators) derives from this record. They have no dependencies.
 */
export const BUILT_IN_STRATEGIES = {
  oauth2: OAuth2Strategy,
  youhodler: YouHodlerStrategy,
  palisade: PalisadeStrategy,
  firstvision: FirstVisionStrategy,
  'alternative-payments': AlternativePaymentsStrategy,
} as const;

export type BuiltInStrategyName = keyof typeof BUILT_IN_STRATEGIES;

export const BUILT_IN_STRATEGY_NAMES = Object.keys(BUILT_IN_STRATEGIES) as readonly BuiltInStrategyName[];

export function isBuiltInStrategyName(name: unknown): name is BuiltInStrategyName {
  return typeof name === 'string' && Object.hasOwn(BUILT_IN_STRATEGIES, name);
}
