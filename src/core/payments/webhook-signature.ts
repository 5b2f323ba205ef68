import { createHmac, timingSafeEqual } from 'node:crypto';

/** Seconds a webhook's timestamp may be away from our clock (docs/design.md §5). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export type SignatureCheck = 'ok' | 'missing' | 'malformed' | 'stale' | 'mismatch';

/** `X-Tasdeed-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>`. */
export function signWebhook(secret: string, rawBody: Buffer | string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(rawBody).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** Verifies the raw bytes against the header; compares in constant time. */
export function verifyWebhookSignature(
  secret: string,
  rawBody: Buffer,
  header: string | undefined,
  now: Date,
  toleranceSeconds = WEBHOOK_TOLERANCE_SECONDS,
): SignatureCheck {
  if (!header) return 'missing';
  const parts = new Map<string, string[]>();
  for (const piece of header.split(',')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) return 'malformed';
    const key = piece.slice(0, eq).trim();
    const list = parts.get(key) ?? [];
    list.push(piece.slice(eq + 1).trim());
    parts.set(key, list);
  }
  const t = parts.get('t')?.[0];
  const signatures = parts.get('v1') ?? [];
  if (!t || !/^\d{1,12}$/.test(t) || signatures.length === 0) return 'malformed';
  const timestamp = Number(t);
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return 'stale';
  const expected = Buffer.from(
    createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex'),
    'utf8',
  );
  // Several v1 values are allowed so that a channel can roll its secret.
  for (const candidate of signatures) {
    const given = Buffer.from(candidate, 'utf8');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return 'ok';
  }
  return 'mismatch';
}
