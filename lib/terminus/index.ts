export { OAuthHealthIndicator, type OAuthClientHealth, type OAuthHealthDetails } from './oauth-health.indicator.js';
