import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { OAuthModuleOptions } from './interfaces/oauth-module-options.interface.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: OAUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OAuthModuleOptions>({ moduleName: 'OAuth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createOAuthOptions')
  // Without this transform the builder accepts `isGlobal` but silently drops it.
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** `OAuthModule.forRootAsync()` options: `imports`, `inject`, `useFactory | useClass | useExisting`, `isGlobal`. */
export type OAuthModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
