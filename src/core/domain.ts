/** Shared vocabulary of the core. */

export const GOVERNORATES = [
  { code: 'DAM', ar: 'دمشق', en: 'Damascus' },
  { code: 'RIF', ar: 'ريف دمشق', en: 'Rif Dimashq' },
  { code: 'ALE', ar: 'حلب', en: 'Aleppo' },
  { code: 'HOM', ar: 'حمص', en: 'Homs' },
  { code: 'HAM', ar: 'حماة', en: 'Hama' },
  { code: 'LAT', ar: 'اللاذقية', en: 'Latakia' },
  { code: 'TAR', ar: 'طرطوس', en: 'Tartus' },
  { code: 'IDL', ar: 'إدلب', en: 'Idlib' },
  { code: 'RAQ', ar: 'الرقة', en: 'Raqqa' },
  { code: 'DEZ', ar: 'دير الزور', en: 'Deir ez-Zor' },
  { code: 'HAS', ar: 'الحسكة', en: 'Hasakah' },
  { code: 'DAR', ar: 'درعا', en: 'Daraa' },
  { code: 'SUW', ar: 'السويداء', en: 'As-Suwayda' },
  { code: 'QUN', ar: 'القنيطرة', en: 'Quneitra' },
] as const;

export type GovernorateCode = (typeof GOVERNORATES)[number]['code'];
export const GOVERNORATE_CODES: readonly GovernorateCode[] = GOVERNORATES.map((g) => g.code);

export function isGovernorateCode(value: string): value is GovernorateCode {
  return (GOVERNORATE_CODES as readonly string[]).includes(value);
}

export type Language = 'ar' | 'en';

/** The medium a conversation is rendered for. */
export type Medium = 'telegram' | 'sms';

/**
 * Where an identity lives. Sandbox identities are separate from real ones so that a local
 * test can never act as a real subscriber.
 */
export type IdentityChannel = 'telegram' | 'sms' | 'sandbox-telegram' | 'sandbox-sms';

export function mediumOf(channel: IdentityChannel): Medium {
  return channel === 'telegram' || channel === 'sandbox-telegram' ? 'telegram' : 'sms';
}

/**
 * Whether each identity channel is the sandbox's (names typed into /sandbox, never a real
 * subscriber): the one list the code and the store's SQL both go by, and a channel added to
 * IdentityChannel does not compile until it says which it is.
 */
const SANDBOX: Record<IdentityChannel, boolean> = {
  telegram: false,
  sms: false,
  'sandbox-telegram': true,
  'sandbox-sms': true,
};

export function isSandbox(channel: IdentityChannel): boolean {
  return SANDBOX[channel];
}

/** The sandbox's identity channels. */
export const SANDBOX_CHANNELS: readonly IdentityChannel[] = (
  Object.keys(SANDBOX) as IdentityChannel[]
).filter(isSandbox);

/** A localised name as the catalogue gives it. */
export interface LocalName {
  ar: string;
  en: string;
}
