import type { Type } from '@nestjs/common';
import type { BuiltInStrategyName } from '../interfaces/client-options.interface.js';
import { AlternativePaymentsStrategy } from './alternative-payments.strategy.js';
import { FirstVisionStrategy } from './firstvision.strategy.js';
import { OAuth2Strategy } from './oauth2.strategy.js';
import { PalisadeStrategy } from './palisade.strategy.js';
import type { TokenStrategy } from './token-strategy.interface.js';
import { YouHodlerStrategy } from './youhodler.strategy.js';

/** The dialects selectable by name in `strategy: '…'`. They have no dependencies. */
export const BUILT_IN_STRATEGIES: Record<BuiltInStrategyName, Type<TokenStrategy>> = {
  oauth2: OAuth2Strategy as Type<TokenStrategy>,
  youhodler: YouHodlerStrategy as Type<TokenStrategy>,
  palisade: PalisadeStrategy as Type<TokenStrategy>,
  firstvision: FirstVisionStrategy as Type<TokenStrategy>,
  'alternative-payments': AlternativePaymentsStrategy as Type<TokenStrategy>,
};
