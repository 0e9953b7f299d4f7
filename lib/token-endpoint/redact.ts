import { formEncode } from '../strategies/strategy-helpers.js';

const REDACTED = '[redacted]';
/** A run this long that mixes letters and digits is taken for a token (words and codes are shorter or unmixed). */
const MIN_TOKEN_LENGTH = 20;
/** Longer runs are never key names; bounds the work spent on each run. */
const MAX_KEY_LENGTH = 40;
/** Key names end so (compared in lower case, `_` and `-` skipped): `access_token`, `clientSecret`, `client_assertion`, … */
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

/** The forms a secret takes on the wire, plus any token the same response carried. */
export function sensitiveValues(clientId: string, secret: string, tokens: readonly (string | undefined)[] = []): string[] {
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
  const carried = tokens.filter((t): t is string => typeof t === 'string' && t.length >= 8);
  return [...new Set([...forms, ...carried])].filter((value) => value.length > 0);
}

/** First characters of a redacted body, whitespace collapsed, for an error's `bodySnippet`. */
export function snippet(text: string, sensitive: readonly string[], known: ReadonlySet<string> = NO_TOKENS): string | undefined {
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
  const runs = new RunCursor(text);
  let out = '';
  let copied = 0;
  let redactions = 0;
  let afterKey = false;
  while (runs.next()) {
    if ((afterKey && runs.gapSeparatesValue) || runs.looksLikeToken() || runs.isAmong(known)) {
      // Back-to-back redactions (`token=token=token=…`) share one marker: the output stays small.
      const joinsPrevious = copied > 0 && runs.gapStart === copied && runs.gapIsBlank;
      if (!joinsPrevious) {
        if (++redactions > MAX_REDACTIONS) return out + REST_DROPPED;
        out += text.slice(copied, runs.start) + REDACTED;
      }
      copied = runs.end;
    }
    // A value that is itself a key name (`"token":"token":"x"`) keeps the next value suspect.
    afterKey = runs.isKeyName();
  }
  return copied === 0 ? text : out + text.slice(copied);
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
const tailOf = (word: string) => [...word.slice(-TAIL_LETTERS)].reduce((tail, c) => (tail << 5) | letterBits(c.charCodeAt(0)), 0);
/** Each key ending's packed tail, and the bits it fills; 'password' and 'assertion' are told by their last six letters. */
const KEY_TAILS = Int32Array.from(KEY_ENDINGS, tailOf);
const KEY_TAIL_MASKS = Int32Array.from(KEY_ENDINGS, (word) => (1 << (5 * Math.min(word.length, TAIL_LETTERS))) - 1);

/**
 * Walks a text as alternating gaps and runs of token characters. `\/` (JSON's optional escape of
 * `/`) counts as part of a run. A one-letter string prefix before a quote (Python's `u'…'`,
 * `b'…'`) counts as part of the gap.
 */
class RunCursor {
  /** The current run is `text.slice(start, end)`. */
  start = 0;
  end = 0;
  /** Where the gap before the current run begins (the previous run's end). */
  gapStart = 0;
  /** The gap before the current run holds only quotes, spaces, `:` `=` `>`. */
  gapIsBlank = false;
  /** … and at least one of `:` `=` `>`. */
  gapSeparatesValue = false;
  /** The class bits of the current run's characters, OR-ed and AND-ed together. */
  private anyOf = 0;
  private allOf = 0;

  constructor(private readonly text: string) {}

  /** Moves to the next run; false at the end of the text. */
  next(): boolean {
    const gapEnd = this.skipGap(this.end);
    if (gapEnd >= this.text.length) return false;
    this.readRun(gapEnd);
    return true;
  }

  looksLikeToken(): boolean {
    const mixed = (this.anyOf & LETTER) !== 0 && (this.anyOf & DIGIT) !== 0;
    return (mixed && this.end - this.start >= MIN_TOKEN_LENGTH) || this.isJwtShaped();
  }

  /** The run, or the run without a trailing `.` or `,` (prose; the run then ends before it), is one of `tokens`. */
  isAmong(tokens: ReadonlySet<string>): boolean {
    if (tokens.size === 0 || this.end - this.start < MIN_KNOWN_LENGTH) return false;
    const run = this.text.slice(this.start, this.end);
    if (tokens.has(run)) return true;
    const trimmed = run.replace(/[.,]+$/, '');
    if (trimmed.length === run.length || !tokens.has(trimmed)) return false;
    this.end = this.start + trimmed.length;
    return true;
  }

  isKeyName(): boolean {
    const length = this.end - this.start;
    if (!(this.allOf & KEY) || length < SHORTEST_KEY || length > MAX_KEY_LENGTH) return false;
    const tail = this.keyTail();
    for (let k = 0; k < KEY_TAILS.length; k++) if ((tail & KEY_TAIL_MASKS[k]!) === KEY_TAILS[k]) return true;
    return false;
  }

  /** `eyJ…` with two dots (header.payload.signature); reads at most the run. */
  private isJwtShaped(): boolean {
    if (!(this.anyOf & PERIOD) || !this.text.startsWith('eyJ', this.start)) return false;
    let dots = 0;
    for (let i = this.start + 3; i < this.end && dots < 2; i++) if (this.text.charCodeAt(i) === DOT) dots++;
    return dots === 2;
  }

  /** The run's last six letters packed as in KEY_TAILS (digits as 31, which no key ending holds). */
  private keyTail(): number {
    let tail = 0;
    for (let i = this.end - 1, shift = 0; i >= this.start && shift < 5 * TAIL_LETTERS; i--) {
      const type = classOf(this.text.charCodeAt(i));
      if (type & (LETTER | DIGIT)) {
        tail |= (type & LETTER ? letterBits(this.text.charCodeAt(i)) : 31) << shift;
        shift += 5;
      }
    }
    return tail;
  }

  private skipGap(from: number): number {
    const text = this.text;
    let assign = false;
    let other = false;
    let i = from;
    for (; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const type = classOf(code);
      if (type & RUN) {
        if (!(type & STRING_PREFIX) || !this.isStringPrefix(i)) break;
      } else if (code === BACKSLASH && text.charCodeAt(i + 1) === SLASH) {
        break;
      } else if (type & ASSIGN) {
        assign = true;
      } else if (!(type & QUOTE_OR_SPACE)) {
        other = true;
      }
    }
    this.gapStart = from;
    this.gapIsBlank = !other;
    this.gapSeparatesValue = assign && !other;
    return i;
  }

  private readRun(from: number): void {
    const text = this.text;
    let anyOf = 0;
    let allOf = ~0;
    let i = from;
    while (i < text.length) {
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
    this.start = from;
    this.end = i;
    this.anyOf = anyOf;
    this.allOf = allOf;
  }

  /** `u` `b` `r` `f` alone right before a quote. */
  private isStringPrefix(i: number): boolean {
    return isQuote(this.text.charCodeAt(i + 1)) && (i === 0 || !(classOf(this.text.charCodeAt(i - 1)) & RUN));
  }
}
