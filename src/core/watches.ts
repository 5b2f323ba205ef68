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
