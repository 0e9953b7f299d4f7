/** Injection tokens used inside the module. None of them is part of the public API. */
export const OAUTH_CLOCK = Symbol('OAUTH:CLOCK');
export const OAUTH_LOGGER = Symbol('OAUTH:LOGGER');

/** Bodies read from a token endpoint are cut at this size. */
export const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

/** This package's version, as telemetry names its instrumentation scope (checked against package.json by a test). */
export const LIBRARY_VERSION = '0.3.0';

/** The context every log line of the module carries. */
export const LOG_CONTEXT = 'OAuth';
