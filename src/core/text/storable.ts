/**
 * Text from outside (a message, a sender, a form, a partner's JSON answer, the catalogue file) as
 * both databases store it. PostgreSQL refuses NUL (U+0000) in text ("invalid byte sequence for
 * encoding UTF8: 0x00"): a message holding one failed with 500 and was lost, while SQLite kept
 * it. A lone UTF-16 surrogate (half of a pair) has no UTF-8 form, and each driver would silently
 * write U+FFFD in its place. Both are removed where the text comes in, so that what Tasdeed reads
 * is what it stores, the same on both databases. Every other character, control characters
 * included, is kept: both databases store them.
 *
 * Applied once at each edge where outside text enters (the HTTP body and query readers, the
 * webhook and partner-answer parsers, the Telegram update inbox, the catalogue reader), never
 * deeper.
 */

/* eslint-disable no-control-regex -- control characters are what these patterns are for */
const NUL_OR_SURROGATE = /[\u0000\uD800-\uDFFF]/;
const NUL = /\u0000/g;
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
/* eslint-enable no-control-regex */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text without NUL and without lone surrogates. */
export function storableText(text: string): string {
  if (!NUL_OR_SURROGATE.test(text)) return text;
  return text.replace(NUL, '').replace(LONE_SURROGATE, '');
}

/** A parsed value (JSON, a form) with {@link storableText} applied to every string value in it. */
export function storableValue<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => storableValue(v)) as T;
  if (typeof value === 'object' && value !== null) {
    // fromEntries defines own properties: a "__proto__" key stays a key.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, storableValue(v as unknown)]),
    ) as T;
  }
  return value;
}

/** A JSON.parse reviver applying {@link storableText} to every string value. */
export function storableReviver(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? storableText(value) : value;
}

/** JSON.parse, every string value storable; throws on invalid JSON as JSON.parse does. */
export function parseStorableJson(text: string): unknown {
  return JSON.parse(text, storableReviver) as unknown;
}

/**
 * Whether an id we issued (a payment reference, a broadcast id) could not be one: it holds a
 * control character (C0, DEL or C1). Such an id is refused with 400 rather than looked up.
 */
export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text);
}
