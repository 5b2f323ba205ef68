/**
 * Money columns are BigInt in the schema (64-bit on both databases: a bill or a confirmed amount
 * may pass 2^31 − 1 qirsh), while the core counts qirsh in JavaScript numbers, exact up to
 * 2^53 − 1. Every edge that takes an amount refuses one past that, so a stored amount always
 * fits; reading one that does not (written by hand into the database) throws rather than
 * rounding money.
 */
import { qirsh, type Qirsh } from '../core/money.js';

/** A money column's value as the core's Qirsh; a RangeError past 2^53 − 1. */
export function qirshFromColumn(value: bigint | number): Qirsh {
  if (typeof value === 'bigint' && (value > MAX || value < -MAX)) {
    throw new RangeError(`amount ${value} qirsh is past what Tasdeed handles exactly (2^53 - 1)`);
  }
  return qirsh(Number(value));
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
