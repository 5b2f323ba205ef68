/**
 * Normalisation for matching what people type on phones: digits in any script, tatweel,
 * diacritics, the several spellings of alef, teh marbuta and yeh, stray bidi marks and case.
 * The result is for comparison only; never show it back to the user.
 */

const BIDI_AND_INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2066-\u2069\u061C\uFEFF]/g;
const TATWEEL = /\u0640/g;
// Harakat, Quranic annotation marks and the superscript alef.
const DIACRITICS = /[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED]/g;

const LETTER_FORMS: Record<string, string> = {
  أ: 'ا',
  إ: 'ا',
  آ: 'ا',
  ٱ: 'ا',
  ة: 'ه',
  ى: 'ي',
  ی: 'ي', // Persian yeh
  ک: 'ك', // keheh
  ؤ: 'و',
  ئ: 'ي',
};

/** Arabic-Indic (U+0660…) and Eastern Arabic-Indic (U+06F0…) digits to ASCII. */
export function asciiDigits(text: string): string {
  return text.replace(/[\u0660-\u0669\u06F0-\u06F9]/g, (d) => {
    const code = d.charCodeAt(0);
    return String(code >= 0x06f0 ? code - 0x06f0 : code - 0x0660);
  });
}

/**
 * Removes bidi controls and zero-width characters. Text copied from one of Tasdeed's own
 * messages carries them: Fluent isolates every argument (an account number arrives as
 * U+2068 1000101 U+2069), and nobody can see them to delete them.
 */
export function stripInvisible(text: string): string {
  return text.replace(BIDI_AND_INVISIBLE, '');
}

/**
 * What was typed or pasted, as it reads: compatibility forms folded (NFKC), digits of any
 * script as ASCII, invisible marks removed, the ends trimmed. Numbers (accounts, phones) are
 * read from this.
 */
export function typedText(text: string): string {
  return stripInvisible(asciiDigits(text.normalize('NFKC'))).trim();
}

/** Normalises text for matching: see the module comment. Whitespace collapses to one space. */
export function normalizeForMatch(text: string): string {
  return typedText(text)
    .replace(TATWEEL, '')
    .replace(DIACRITICS, '')
    .replace(/[أإآٱةىیکؤئ]/g, (c) => LETTER_FORMS[c] ?? c)
    .replace(/\u060C/g, ',') // Arabic comma
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * True when the text has Latin letters and no Arabic letters: the sender writes in Latin script.
 * Arabic-Indic digits are not letters: "BILL elec ١٠٠٠١٠١" is Latin script typed on a phone
 * whose keypad gives those digits.
 */
export function isLatinScript(text: string): boolean {
  return /[a-z]/i.test(text) && !/[\u0600-\u065F\u066A-\u06EF\u06FA-\u06FF]/.test(text);
}
