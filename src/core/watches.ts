/**
 * "Tell me when it is back": a biller or payment channel recovered, so everyone who asked is
 * told once (the watches are taken, and each message has its own dedupe key).
 *
 * Two roads lead here: ordinary traffic that finds the biller or channel answering again
 * (BillService / PaymentService recovery events), and the recovery probe below, which asks
 * every minute on behalf of the people waiting. Whichever takes the watches first tells them;
 * the other finds none.
 */
import type { Clock } from './ports/clock.port.js';
import type { Store } from './ports/store.port.js';

export type WatchedKind = 'biller' | 'channel';

/**
 * The messages go in the bulk lane, urgent: a recovery may have thousands of people waiting,
 * who must not overrun Telegram's or a gateway's rate, but who asked to be told and are told
 * at once, quiet hours or not.
 */
export async function announceRecovery(
  store: Store,
  clock: Clock,
  kind: WatchedKind,
  id: string,
): Promise<number> {
  return store.transaction(async (tx) => {
    const watches = await tx.takeWatches('biller', `${kind}:${id}`);
    for (const watch of watches) {
      await tx.enqueue({
        kind: 'message',
        lane: 'bulk',
        urgent: true,
        nextAttemptAt: clock.now(),
        dedupeKey: `back:${watch.id}`,
        identityId: watch.identityId,
        payload: {
          key: 'back-online',
          args: { name: kind === 'biller' ? { biller: id } : { channel: id } },
        },
      });
    }
    return watches.length;
  });
}

export interface ProbeResult {
  /** Billers and channels somebody waits on, each asked once. */
  probed: number;
  /** Subscribers told that one of them is back. */
  announced: number;
  /** Targets whose probe or announcement failed unexpectedly (they are tried next time). */
  errors: number;
}

/**
 * The recovery probe: asks every biller and payment channel somebody waits on whether it
 * answers, and tells the waiting subscribers once it does. Watches live in the database, so
 * this works after a restart too, when nothing in memory remembers what was down. One target
 * failing in an unexpected way does not keep the others from being probed.
 */
export async function probeWatched(
  store: Store,
  clock: Clock,
  probe: (kind: WatchedKind, id: string) => Promise<boolean>,
  options: { onError?: (error: unknown, target: string) => void } = {},
): Promise<ProbeResult> {
  const targets = await store.watchTargets('biller');
  const result: ProbeResult = { probed: 0, announced: 0, errors: 0 };
  for (const target of targets) {
    const separator = target.indexOf(':');
    const kind = target.slice(0, separator);
    const id = target.slice(separator + 1);
    if (separator < 0 || (kind !== 'biller' && kind !== 'channel') || !id) continue;
    result.probed += 1;
    try {
      if (await probe(kind, id)) result.announced += await announceRecovery(store, clock, kind, id);
    } catch (error) {
      result.errors += 1;
      options.onError?.(error, target);
    }
  }
  return result;
}
