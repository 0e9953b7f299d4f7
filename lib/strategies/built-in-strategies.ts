import type { Type } from '@nestjs/common';
import type { BuiltInStrategyName } from '../interfaces/client-options.interface.js';
import { OAuth2Strategy } from './oauth2.strategy.js';
import type { TokenStrategy } from './token-strategy.interface.js';

/** The dialects selectable by name in `strategy: '…'`. They have no dependencies. */
export const BUILT_IN_STRATEGIES: Partial<Record<BuiltInStrategyName, Type<TokenStrategy>>> = {
  oauth2: OAuth2Strategy as Type<TokenStrategy>,
};
