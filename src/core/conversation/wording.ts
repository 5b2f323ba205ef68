/**
 * Small rules for what people type and what is said back to them: a typed phone number read as
 * E.164, a mistyped account number cut short, an account holder's name masked.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { typedText } from '../text/normalize.js';

/** Parses a phone number people type (local 09…, +963…, 00963…) to E.164; Syria by default. */
export function toE164(text: string): string | null {
  const cleaned = typedText(text)
    .replace(/[^\d+]/g, '')
    .replace(/^00/, '+');
  if (cleaned.length < 6) return null;
  const phone = parsePhoneNumberFromString(cleaned, 'SY');
  return phone?.isValid() ? phone.number : null;
}

/**
 * A mistyped account number as a reply repeats it: cut to the 12 characters the SMS budget
 * allows for an account (src/sms/sms-budget.ts WORST_ACCOUNT), so that 300 digits typed by
 * mistake do not make the reply five SMS parts long.
 */
export function shortAccount(account: string): string {
  return account.length <= 12 ? account : `${account.slice(0, 9)}...`;
}

/** "محمد خالد الأحمد" → "م*** خ*** ا***": enough to recognise, not enough to learn a name. */
export function maskName(name: string): string {
  return name
    .trim()
    .split(/\s+/)
    .map((word) => `${[...word][0] ?? ''}***`)
    .join(' ');
}
