import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A payment id: short enough to read out and to fit in an SMS ("P-7K3M9Q2X4A"), random enough
 * (50 bits) that ids never collide in practice; the primary key catches the rest.
 * It doubles as the reference and the idempotency key towards channels and billers.
 */
export function newPaymentId(): string {
  const bytes = randomBytes(10);
  let out = '';
  for (const byte of bytes) out += CROCKFORD[byte % 32];
  return `P-${out}`;
}
