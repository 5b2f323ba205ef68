/**
 * Phone numbers as SMS sees them: stored and compared in E.164 (`+963944123456`), parsed from
 * what people type (`0944 123 456`, `٠٩٤٤١٢٣٤٥٦`, `00963 944-123-456`) with Syria as the
 * default region.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { stripInvisible, typedText } from '../core/text/normalize.js';

/** A phone number in E.164: `+`, country code, national number. */
export type E164 = string & { readonly __brand: 'E164' };

export const DEFAULT_REGION: CountryCode = 'SY';

/**
 * Parses a phone number to E.164, or null when it is not a valid number. Digits may be ASCII,
 * Arabic-Indic or Eastern Arabic-Indic; spaces, dashes, dots, brackets and bidi marks are
 * ignored; a `00` international prefix counts as `+`.
 */
export function parsePhone(
  input: string,
  defaultRegion: CountryCode = DEFAULT_REGION,
): E164 | null {
  let text = typedText(input);
  if (!/^[+\d][\d\s().-]*$/.test(text)) return null;
  text = text.replace(/[\s().-]/g, '');
  if (text.startsWith('00')) text = `+${text.slice(2)}`;
  const parsed = parsePhoneNumberFromString(text, defaultRegion);
  if (!parsed?.isValid()) return null;
  return parsed.number as E164;
}

/** True when `value` is already in canonical E.164 form and valid. */
export function isE164(value: string): value is E164 {
  return /^\+[1-9]\d{6,14}$/.test(value) && parsePhone(value) === value;
}

/**
 * True when a sender is a name, not a number ("Syriatel", "MTN", "BANK-SY", "سيريتل"): carriers
 * and services send from alphanumeric sender ids, which cannot receive a reply, and answering
 * their messages only costs money (docs/design.md §8: none to alphanumeric senders).
 */
export function isAlphanumericSender(from: string): boolean {
  const text = stripInvisible(from.normalize('NFKC')).trim();
  return /\p{L}/u.test(text);
}

/**
 * True when a sender is worth answering: an E.164-parsable phone number. Alphanumeric ids and
 * short codes (carrier services such as `1234`) are not.
 */
export function isReplyableSender(from: string): boolean {
  if (isAlphanumericSender(from)) return false;
  return parsePhone(from) !== null;
}
