/** One HTTP exchange with a deadline, shared by the HTTP biller and payment channel adapters. */

/** No complete answer: the message says why (timeout, caller abort, network error). */
export class ExchangeError extends Error {}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

/** A short, single-line excerpt of a body for error messages. */
export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/**
 * A complete answer (status and body text) or an ExchangeError. The body is read under the
 * same deadline: a peer that stalls mid-body is not answering.
 */
export async function exchange(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  what: string,
): Promise<{ status: number; text: string }> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = callerSignal ? AbortSignal.any([timeout, callerSignal]) : timeout;
  try {
    const res = await fetch(url, { ...init, signal, redirect: 'error' });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    if (timeout.aborted)
      throw new ExchangeError(`${what} timed out after ${timeoutMs} ms`, { cause: err });
    if (callerSignal?.aborted) {
      throw new ExchangeError(`${what} aborted by the caller`, {
        cause: callerSignal.reason ?? err,
      });
    }
    throw new ExchangeError(`${what} failed: ${describeError(err)}`, { cause: err });
  }
}
