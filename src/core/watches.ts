/**
 * "Tell me when it is back": a biller or payment channel recovered, so everyone who asked is
 * told once (the watches are taken, and each message has its own dedupe key).
 */
import type { Store } from './ports/store.port.js';

export async function announceRecovery(
  store: Store,
  kind: 'biller' | 'channel',
  id: string,
): Promise<number> {
  return store.transaction(async (tx) => {
    const watches = await tx.takeWatches('biller', `${kind}:${id}`);
    for (const watch of watches) {
      await tx.enqueue({
        kind: 'message',
        lane: 'reply',
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

/**
 * The recovery probe: asks every biller and payment channel somebody waits on whether it
 * answers, and tells the waiting subscribers once it does. Watches live in the database, so
 * this works after a restart too, when nothing in memory remembers what was down.
 */
export async function probeWatched(
  store: Store,
  probe: (kind: 'biller' | 'channel', id: string) => Promise<boolean>,
): Promise<{ probed: number; announced: number }> {
  const targets = await store.watchTargets('biller');
  let announced = 0;
  for (const target of targets) {
    const [kind, id] = target.split(':', 2);
    if ((kind !== 'biller' && kind !== 'channel') || !id) continue;
    if (await probe(kind, id)) announced += await announceRecovery(store, kind, id);
  }
  return { probed: targets.length, announced };
}
