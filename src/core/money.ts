/**
 * Money is an integer number of qirsh (1/100 of the new Syrian pound, since the 1 January 2026
 * redenomination: 100 old pounds = 1 new pound). Never a float, never a bare number.
 */
export type Qirsh = number & { readonly __brand: 'Qirsh' };

/** The redenomination day (YYYY-MM-DD): bills due before it also show old pounds, as people think in them. */
export const REDENOMINATION_DATE = '2026-01-01';

/** True for a bill due before the redenomination, whose amounts are shown in old pounds too. */
export function isPreRedenomination(dueDate: string): boolean {
  return dueDate < REDENOMINATION_DATE;
}

/** Qirsh in one old pound: 1 new pound = 100 old pounds = 100 qirsh. */
const QIRSH_PER_OLD_POUND = 1;

export function qirsh(value: number): Qirsh {
  if (!Number.isSafeInteger(value))
    throw new RangeError(`not an integer amount of qirsh: ${value}`);
  return value as Qirsh;
}

export type MoneyLocale = 'ar' | 'en';

function group(n: bigint | number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The amount in new pounds, ASCII digits; qirsh shown only when there are some. */
export function poundsText(amount: Qirsh, locale: MoneyLocale): string {
  const negative = amount < 0;
  const abs = Math.abs(amount);
  const pounds = Math.floor(abs / 100);
  const rest = abs % 100;
  // Arabic texts print the number as bills do (no grouping); English groups thousands.
  const whole = locale === 'en' ? group(pounds) : String(pounds);
  const text = rest === 0 ? whole : `${whole}.${String(rest).padStart(2, '0')}`;
  return negative ? `-${text}` : text;
}

/** The same amount in old pounds (100 old pounds per new pound), always whole. */
export function oldPoundsText(amount: Qirsh, locale: MoneyLocale): string {
  const old = amount / QIRSH_PER_OLD_POUND;
  return locale === 'en' ? group(old) : String(old);
}

/** "18750 ل.س" / "18,750 SYP". */
export function formatMoney(amount: Qirsh, locale: MoneyLocale): string {
  return locale === 'ar' ? `${poundsText(amount, 'ar')} ل.س` : `${poundsText(amount, 'en')} SYP`;
}

/** Parses "18750", "18750.50", "18,750" (new pounds) into qirsh; null when it is not an amount. */
export function parsePounds(text: string): Qirsh | null {
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text.replace(/,/g, ''));
  if (!m) return null;
  const frac = (m[2] ?? '').padEnd(2, '0');
  return qirsh(Number(m[1]) * 100 + Number(frac));
}
