import { formEncode } from '../common/form-encode.js';

const REDACTED = '[redacted]';
/** A run this long that mixes letters and digits is taken for a token (words and codes are shorter or unmixed). */
const MIN_TOKEN_LENGTH = 20;
/** Longer runs are never key names; bounds the work spent on each run. */
const MAX_KEY_LENGTH = 40;
/** Key names end so (lower case, `_` and `-` skipped): `access_token`, `clientSecret`, `client_assertion`, … */
const KEY_ENDINGS = ['token', 'secret', 'password', 'passwd', 'assertion', 'apikey'];
const SHORTEST_KEY = 5;
/** Past this many redactions a text is hostile or garbage: the rest of it is dropped unread. */
const MAX_REDACTIONS = 10_000;
const REST_DROPPED = '[redacted: the rest]';

/**
 * Removes a client's secret (in every form it takes on the wire), the `known` access tokens (those
 * the module handed out lately, any client's) and anything token-shaped from text that came from a
 * token endpoint, before it reaches an error or a log. Linear in the text: one `split` per
 * sensitive value, then one left-to-right scan for tokens (a known token is one `Set` lookup).
 */
export function redact(text: string, sensitive: readonly string[], known: ReadonlySet<string> = NO_TOKENS): string {
  return redactTokens(removeValues(text, sensitive), known);
}

const NO_TOKENS: ReadonlySet<string> = new Set();
/** Shorter runs are not looked up among the known tokens (no access token is this short). */
const MIN_KNOWN_LENGTH = 8;

/**
 * The forms a secret takes on the wire, plus other credentials of the same exchange (a token the
 * response carried, the request's client assertion). A client without a secret (`''`) has no forms.
 */
export function sensitiveValues(
  clientId: string,
  secret: string,
  tokens: readonly (string | undefined)[] = [],
): string[] {
  const carried = tokens.filter((t): t is string => typeof t === 'string' && t.length >= 8);
  if (secret.length === 0) return [...new Set(carried)];
  const basic = (id: string, s: string) => Buffer.from(`${id}:${s}`).toString('base64');
  const forms = [
    secret,
    formEncode(secret), // form bodies (oauth2 client_secret_post): space as '+'
    encodeURIComponent(secret), // the same with space as %20
    jsonEscaped(secret), // JSON bodies (youhodler, palisade, firstvision json-body)
    jsonEscaped(jsonEscaped(secret)), // a JSON request body echoed inside a JSON string
    basic(clientId, secret), // Basic header, basicEncoding 'raw'
    basic(formEncode(clientId), formEncode(secret)), // Basic header, basicEncoding 'rfc6749'
  ];
  return [...new Set([...forms, ...carried])].filter((value) => value.length > 0);
}

/** First characters of a redacted body, whitespace collapsed, for an error's `bodySnippet`. */
export function snippet(
  text: string,
  sensitive: readonly string[],
  known: ReadonlySet<string> = NO_TOKENS,
): string | undefined {
  const max = SNIPPET_LENGTH;
  const clean = redact(text, sensitive, known);
  // Collapse whitespace only as far as the snippet reaches (windows doubling: linear overall).
  for (let window = 4 * max; ; window *= 2) {
    const flat = clean.slice(0, window).replace(/\s+/g, ' ').trim();
    if (flat.length > max) return `${flat.slice(0, max)}…`;
    if (window >= clean.length) return flat.length === 0 ? undefined : flat;
  }
}

const SNIPPET_LENGTH = 200;

function jsonEscaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** Replaces every occurrence of each value; longest first, so no piece of a longer form survives a shorter one. */
function removeValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    if (value.length > 0 && out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return out;
}

/**
 * Redacts, in one pass, every run of token characters that is the value of a token-ish key
 * (`access_token=…`, `"clientSecret": "…"`, `<id_token>…`, `{'token': '…'}`) or looks like a
 * token on its own (a JWT, or a long run mixing letters and digits). Each character is looked at
 * a bounded number of times, whatever the text: no regular expression can backtrack here.
 */
export function redactTokens(text: string, known: ReadonlySet<string> = NO_TOKENS): string {
  const length = text.length;
  let out = '';
  let copied = 0;
  let redactions = 0;
  let afterKey = false;
  let i = 0;
  // Locals rather than a cursor object: a word-dense 1 MiB body is half a million runs.
  while (i < length) {
    // The gap: quotes, spaces, `:` `=` `>` (between a key and its value) or anything else.
    const gapStart = i;
    let assign = false;
    let other = false;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      const type = classOf(code);
      if (type & RUN) {
        if (!(type & STRING_PREFIX) || !isStringPrefix(text, i)) break;
      } else if (code === BACKSLASH && text.charCodeAt(i + 1) === SLASH) {
        break;
      } else if (type & ASSIGN) {
        assign = true;
      } else if (!(type & QUOTE_OR_SPACE)) {
        other = true;
      }
    }
    if (i >= length) break;

    // The run of token characters; `\/` (JSON's optional escape of `/`) belongs to it.
    const start = i;
    let anyOf = 0;
    let allOf = ~0;
    while (i < length) {
      const code = text.charCodeAt(i);
      const type = classOf(code);
      if (type & RUN) {
        anyOf |= type;
        allOf &= type;
        i++;
      } else if (code === BACKSLASH && text.charCodeAt(i + 1) === SLASH) {
        allOf = 0; // not a key name
        i += 2;
      } else break;
    }

    let redactRun = (afterKey && assign && !other) || looksLikeToken(text, start, i, anyOf);
    if (!redactRun && known.size > 0 && i - start >= MIN_KNOWN_LENGTH) {
      const knownEnd = knownTokenEnd(text, start, i, known);
      if (knownEnd > 0) [redactRun, i] = [true, knownEnd];
    }
    if (redactRun) {
      // Back-to-back redactions (`token=token=token=…`) share one marker: the output stays small.
      const joinsPrevious = copied > 0 && gapStart === copied && !other;
      if (!joinsPrevious) {
        if (++redactions > MAX_REDACTIONS) return out + REST_DROPPED;
        out += text.slice(copied, start) + REDACTED;
      }
      copied = i;
    }
    // A value that is itself a key name (`"token":"token":"x"`) keeps the next value suspect.
    afterKey = isKeyName(text, start, i, allOf);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** A JWT (`eyJ…` with two dots), or a long run mixing letters and digits. */
function looksLikeToken(text: string, start: number, end: number, anyOf: number): boolean {
  const mixed = (anyOf & LETTER) !== 0 && (anyOf & DIGIT) !== 0;
  return (mixed && end - start >= MIN_TOKEN_LENGTH) || ((anyOf & PERIOD) !== 0 && isJwtShaped(text, start, end));
}

/** `eyJ…` with two dots (header.payload.signature); reads at most the run. */
function isJwtShaped(text: string, start: number, end: number): boolean {
  if (!text.startsWith('eyJ', start)) return false;
  let dots = 0;
  for (let i = start + 3; i < end && dots < 2; i++) if (text.charCodeAt(i) === DOT) dots++;
  return dots === 2;
}

/**
 * Where a known token in the run ends: the run itself, or the run without a trailing `.` or `,`
 * (prose); 0 when the run is none of `tokens`.
 */
function knownTokenEnd(text: string, start: number, end: number, tokens: ReadonlySet<string>): number {
  const run = text.slice(start, end);
  if (tokens.has(run)) return end;
  const trimmed = run.replace(/[.,]+$/, '');
  return trimmed.length < run.length && tokens.has(trimmed) ? start + trimmed.length : 0;
}

function isKeyName(text: string, start: number, end: number, allOf: number): boolean {
  const length = end - start;
  if (!(allOf & KEY) || length < SHORTEST_KEY || length > MAX_KEY_LENGTH) return false;
  const tail = keyTail(text, start, end);
  for (let k = 0; k < KEY_TAILS.length; k++) if ((tail & KEY_TAIL_MASKS[k]!) === KEY_TAILS[k]) return true;
  return false;
}

/** The run's last six letters packed as in KEY_TAILS (digits as 31, which no key ending holds). */
function keyTail(text: string, start: number, end: number): number {
  let tail = 0;
  for (let i = end - 1, shift = 0; i >= start && shift < 5 * TAIL_LETTERS; i--) {
    const type = classOf(text.charCodeAt(i));
    if (type & (LETTER | DIGIT)) {
      tail |= (type & LETTER ? letterBits(text.charCodeAt(i)) : 31) << shift;
      shift += 5;
    }
  }
  return tail;
}

/** `u` `b` `r` `f` alone right before a quote: Python's `u'…'`, `b'…'` belong to the gap. */
function isStringPrefix(text: string, i: number): boolean {
  return isQuote(text.charCodeAt(i + 1)) && (i === 0 || !(classOf(text.charCodeAt(i - 1)) & RUN));
}

// Character classes (ASCII; any other character ends a run and breaks a key from its value).
const RUN = 1; // may be part of a token: A-Z a-z 0-9 . _ ~ + / - %
const LETTER = 2;
const DIGIT = 4;
const KEY = 8; // may be part of a key name: A-Z a-z 0-9 _ -
const QUOTE_OR_SPACE = 16; // may stand between a key and its value
const ASSIGN = 32; // ':' '=' '>': what makes the text after a key its value
const STRING_PREFIX = 64; // u b r f: Python's u'…', b'…'
const PERIOD = 128; // '.': a JWT has two
const CLASSES = characterClasses();

function characterClasses(): Uint8Array {
  const classes = new Uint8Array(128);
  const mark = (chars: string, flags: number) => {
    for (const c of chars) classes[c.charCodeAt(0)]! |= flags;
  };
  mark('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', RUN | LETTER | KEY);
  mark('0123456789', RUN | DIGIT | KEY);
  mark('_-', RUN | KEY);
  mark('.~+/%', RUN);
  mark('.', PERIOD);
  mark(' \t\r\n"\'`\\', QUOTE_OR_SPACE);
  mark(':=>', ASSIGN);
  mark('ubrfUBRF', STRING_PREFIX);
  return classes;
}

const classOf = (code: number) => (code < 128 ? CLASSES[code]! : 0);
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const DOT = 0x2e;
const isQuote = (code: number) => code === 0x22 || code === 0x27;

// A key name is recognised by its last six letters (lower case; `_` `-` skipped), packed five
// bits each into one number: no string is built for the words of a body.
const TAIL_LETTERS = 6;
const letterBits = (code: number) => (code | 0x20) - 0x60; // a/A → 1 … z/Z → 26
const tailOf = (word: string) =>
  Array.from(word.slice(-TAIL_LETTERS)).reduce((tail, c) => (tail << 5) | letterBits(c.charCodeAt(0)), 0);
/** Each key ending's packed tail and the bits it fills ('password', 'assertion': their last six letters). */
const KEY_TAILS = Int32Array.from(KEY_ENDINGS, tailOf);
const KEY_TAIL_MASKS = Int32Array.from(KEY_ENDINGS, (word) => (1 << (5 * Math.min(word.length, TAIL_LETTERS))) - 1);
