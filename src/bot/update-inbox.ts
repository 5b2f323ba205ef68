/**
 * Telegram updates are recorded before they are acted on (docs/design.md §3): the webhook answers 200
 * once the row is written, polling confirms an offset only after its updates are written, and
 * a worker processes recorded rows in update_id order, also those left by a process that died.
 * The update_id is the row's key, so an update Telegram delivers twice acts once.
 */
import { z } from 'zod';
import { BatchWorker } from '../core/batch-worker.js';
import type { Clock } from '../core/ports/clock.port.js';
import type { Store } from '../core/ports/store.port.js';
import { parseStorableJson } from '../core/text/storable.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { Logger } from '../observability/logger.js';

/** The part of an update Tasdeed relies on before grammY reads the rest. */
export const updateSchema = z.looseObject({ update_id: z.number().int().nonnegative() });
export type RawUpdate = z.infer<typeof updateSchema>;

export type RecordOutcome = 'recorded' | 'duplicate';

export class TelegramUpdateInbox extends BatchWorker {
  constructor(
    private readonly store: Store,
    private readonly process: (update: RawUpdate) => Promise<void>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    idleMs = 1_000,
  ) {
    super(idleMs);
  }

  /** Durably records an update and wakes the worker; processing is not awaited. */
  async record(update: RawUpdate): Promise<RecordOutcome> {
    const fresh = await this.store.recordTelegramUpdate(update.update_id, JSON.stringify(update));
    if (fresh) this.wake();
    return fresh ? 'recorded' : 'duplicate';
  }

  protected onError(error: unknown): void {
    this.logger.error({ err: error }, 'telegram update worker failed');
  }

  /**
   * One batch: chats are served in parallel, each chat's updates in order (a person's second
   * message must not overtake the first).
   */
  protected async processBatch(): Promise<number> {
    const rows = await this.store.unprocessedTelegramUpdates(50);
    const byChat = new Map<string, Array<{ updateId: number; update: RawUpdate | null }>>();
    for (const row of rows) {
      let update: RawUpdate | null = null;
      try {
        update = updateSchema.parse(parseStorableJson(row.payload));
      } catch {
        update = null;
      }
      const key = update ? chatKey(update) : `bad:${row.updateId}`;
      const list = byChat.get(key) ?? [];
      list.push({ updateId: row.updateId, update });
      byChat.set(key, list);
    }
    const chats = await Promise.allSettled(
      [...byChat.values()].map(async (list) => {
        for (const { updateId, update } of list) {
          let error: string | null = update ? null : 'unreadable update';
          if (update) {
            try {
              await this.process(update);
            } catch (e) {
              // The database failing is not the update's fault: this chat stops here, and the
              // update (with the chat's later ones, in order) is taken again once it is back.
              if (isDatabaseUnavailable(e)) throw e;
              // Recorded as processed with its error: a poisonous update must not block its chat.
              error = e instanceof Error ? e.message : String(e);
              this.logger.error({ err: e, updateId }, 'telegram update failed');
            }
          }
          await this.store.markTelegramUpdateProcessed(updateId, this.clock.now(), error);
        }
      }),
    );
    // Every chat has stopped (none may still run when the next batch takes its rows again);
    // a chat that failed leaves its rows for the next batch.
    const failed = chats.find((c) => c.status === 'rejected');
    if (failed) throw failed.reason;
    return rows.length;
  }
}

/** The chat (or user) an update concerns, to keep one person's updates in order. */
function chatKey(update: RawUpdate): string {
  for (const value of Object.values(update)) {
    if (typeof value !== 'object' || value === null) continue;
    const v = value as {
      chat?: { id?: number };
      from?: { id?: number };
      message?: { chat?: { id?: number } };
    };
    const id = v.chat?.id ?? v.message?.chat?.id;
    if (typeof id === 'number') return `chat:${id}`;
    if (typeof v.from?.id === 'number') return `user:${v.from.id}`;
  }
  return `update:${update.update_id}`;
}
