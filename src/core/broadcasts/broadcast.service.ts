/**
 * Staff broadcasts (docs/design.md §7): preview (recipients, SMS parts, cost), send, progress, cancel.
 *
 * Sending writes the broadcast, then its recipients as outbox rows in batches (identity id
 * order, one transaction per batch, a cursor on the broadcast), so a crash while planning
 * resumes where it stopped and a crash while sending resumes from the outbox. Each recipient
 * row has the key `bc:<id>:<identityId>`: nobody is written twice. The text is the
 * broadcast's, chosen by the recipient's language when the row is sent; opted-out addresses
 * are left out when planning and skipped when sending.
 */
import { randomUUID } from 'node:crypto';
import { mediumOf } from '../domain.js';
import type { Composed } from '../outbox/message.handler.js';
import type { BulkReach } from '../ports/bulk-reach.js';
import type { Clock } from '../ports/clock.port.js';
import type {
  BroadcastAudience,
  BroadcastChannel,
  BroadcastCounts,
  BroadcastRecord,
  BroadcastStatus,
  IdentityRecord,
  OutboxItemRecord,
  Store,
  SubscriberRecord,
} from '../ports/store.port.js';

/** Longest broadcast text: ten SMS parts in Arabic (67 characters each) is already costly. */
export const MAX_BROADCAST_TEXT = 670;

export const BROADCAST_CHANNELS: readonly BroadcastChannel[] = ['sms', 'telegram'];

export interface BroadcastRequest {
  text: { ar: string; en?: string | null };
  audience: BroadcastAudience;
  channels?: BroadcastChannel[];
  urgent?: boolean;
  /** Who asked (staff API, a Telegram staff id). */
  createdBy: string;
}

export interface BroadcastPreview {
  recipients: number;
  /** The most SMS parts one recipient's message takes (Arabic or English). */
  smsPartsPerMessage: number;
  /** Parts over every SMS recipient, each in their language: what the send costs. */
  smsPartsTotal: number;
}

export interface BroadcastProgress {
  id: string;
  status: BroadcastStatus;
  recipients: number;
  counts: BroadcastCounts;
}

export interface BroadcastServiceOptions {
  /** SMS parts a text takes (the SMS renderer's count; the core does not know SMS encodings). */
  smsParts(text: string): number;
  /** Recipient rows written per transaction (2,000). */
  batchSize?: number;
  /** New outbox rows were written: wake the dispatcher. */
  onQueued?(): void;
  onError?(error: unknown, broadcastId: string): void;
  /** First pause after a failed planning batch, doubling up to 30 s (1 s). */
  retryMs?: number;
  /** Which identities besides the real ones a broadcast reaches (default: sandbox ones too). */
  reach?: BulkReach;
}

/** True when the audience names nobody in particular and is not `{ all: true }` (refused). */
export function isEmptyAudience(audience: BroadcastAudience): boolean {
  if ('all' in audience) return audience.all !== true;
  const { governorates, billers, languages } = audience;
  return !governorates?.length && !billers?.length && !languages?.length;
}

export class BroadcastService {
  private readonly batchSize: number;
  private readonly reach: BulkReach;
  private stopped = false;
  /** Broadcasts being planned by this process (one planner each). */
  private readonly planning = new Map<string, Promise<void>>();
  /** Planners pausing after a failed batch (stop() wakes them). */
  private readonly wakers = new Set<() => void>();
  /** Broadcast texts and states for sending, refreshed every second at most. */
  private readonly cache = new Map<string, { at: number; record: BroadcastRecord | null }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: BroadcastServiceOptions,
  ) {
    this.batchSize = options.batchSize ?? 2_000;
    this.reach = options.reach ?? {};
  }

  async preview(request: Omit<BroadcastRequest, 'createdBy'>): Promise<BroadcastPreview> {
    const channels = request.channels?.length ? request.channels : [...BROADCAST_CHANNELS];
    const groups = await this.store.countAudience(request.audience, channels, this.reach);
    const arParts = this.options.smsParts(request.text.ar);
    const enParts = request.text.en ? this.options.smsParts(request.text.en) : arParts;
    let recipients = 0;
    let smsPartsTotal = 0;
    let smsUsed = false;
    for (const g of groups) {
      recipients += g.count;
      if (mediumOf(g.channel) === 'sms') {
        smsUsed = true;
        smsPartsTotal += g.count * (g.language === 'en' ? enParts : arParts);
      }
    }
    const smsPartsPerMessage = channels.includes('sms') || smsUsed ? Math.max(arParts, enParts) : 0;
    return { recipients, smsPartsPerMessage, smsPartsTotal };
  }

  /** Records the broadcast and starts writing its recipients; resolves once it is recorded. */
  async create(request: BroadcastRequest): Promise<BroadcastRecord & BroadcastPreview> {
    const channels = request.channels?.length ? request.channels : [...BROADCAST_CHANNELS];
    const preview = await this.preview({ ...request, channels });
    const record = await this.store.createBroadcast(
      {
        id: `B-${randomUUID()}`,
        text: { ar: request.text.ar, en: request.text.en ?? null },
        audience: request.audience,
        channels,
        urgent: request.urgent ?? false,
        recipients: preview.recipients,
        smsPartsPerMessage: preview.smsPartsPerMessage,
        smsPartsTotal: preview.smsPartsTotal,
        createdBy: request.createdBy,
      },
      this.clock.now(),
    );
    this.startPlanning(record.id);
    return { ...record, ...preview };
  }

  /** Resumes the planning of broadcasts a crash interrupted (called at start). */
  async resume(): Promise<number> {
    const open = await this.store.broadcastsPlanning();
    for (const b of open) this.startPlanning(b.id);
    return open.length;
  }

  /** Stops planning (it resumes at the next start) and waits for the batch in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of [...this.wakers]) wake();
    await this.idle();
  }

  /** Resolves when this process has no broadcast left to plan (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.planning.size > 0) await Promise.allSettled([...this.planning.values()]);
  }

  private startPlanning(id: string): void {
    if (this.stopped || this.planning.has(id)) return;
    const run = this.plan(id).finally(() => this.planning.delete(id));
    this.planning.set(id, run);
  }

  /**
   * Writes the recipients batch by batch. A batch that fails (the database busy, a transaction
   * timing out under load) is tried again after a pause, so a broadcast is not left half
   * planned until the next start; the cursor makes a retried batch harmless.
   */
  private async plan(id: string): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const { written, done } = await this.store.planBroadcastBatch(
          id,
          this.batchSize,
          this.clock.now(),
          this.reach,
        );
        failures = 0;
        if (written > 0) this.options.onQueued?.();
        if (done) return;
        // Let replies and the dispatcher in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      } catch (error) {
        this.options.onError?.(error, id);
        failures += 1;
        await this.pause(Math.min(30_000, (this.options.retryMs ?? 1_000) * 2 ** (failures - 1)));
      }
    }
  }

  /** Sleeps for `ms` (real time), cut short by stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  async progress(id: string): Promise<BroadcastProgress | null> {
    const found = await this.store.getBroadcast(id);
    if (!found) return null;
    const counts = await this.store.broadcastCounts(id);
    const record = await this.finishIfSent(found, counts);
    const total = counts.queued + counts.sent + counts.failed + counts.skipped + counts.cancelled;
    return {
      id,
      status: record.status,
      // While planning, the preview's count; then the rows actually written.
      recipients: record.status === 'planning' ? Math.max(record.recipients, total) : total,
      counts,
    };
  }

  /** The latest broadcasts, those whose rows have all finished recorded as done. */
  async list(limit = 50): Promise<BroadcastRecord[]> {
    const records = await this.store.listBroadcasts(limit);
    return Promise.all(
      records.map(async (r) =>
        r.status === 'sending' ? this.finishIfSent(r, await this.store.broadcastCounts(r.id)) : r,
      ),
    );
  }

  /**
   * Cancels what has not been sent. A broadcast with nothing left to send is finished (done
   * is recorded lazily, when someone looks), and cancelling a cancelled one changes nothing.
   */
  async cancel(id: string): Promise<'cancelled' | 'finished' | 'unknown'> {
    const found = await this.store.getBroadcast(id);
    if (!found) return 'unknown';
    const record =
      found.status === 'sending'
        ? await this.finishIfSent(found, await this.store.broadcastCounts(id))
        : found;
    if (record.status === 'done') return 'finished';
    if (record.status === 'cancelled') return 'cancelled';
    const now = this.clock.now();
    const changed = await this.store.setBroadcastStatus(
      id,
      ['planning', 'sending'],
      'cancelled',
      now,
    );
    this.cache.delete(id);
    if (!changed) {
      // Finished or cancelled in between.
      const latest = await this.store.getBroadcast(id);
      return latest?.status === 'cancelled' ? 'cancelled' : 'finished';
    }
    await this.store.cancelBroadcastItems(id, now);
    return 'cancelled';
  }

  /**
   * Records a sending broadcast as done once none of its rows is queued or in flight (every
   * row is final, so nothing can be sent any more); returns the record as it now stands.
   */
  private async finishIfSent(
    record: BroadcastRecord,
    counts: BroadcastCounts,
  ): Promise<BroadcastRecord> {
    if (record.status !== 'sending' || counts.queued > 0) return record;
    await this.store.setBroadcastStatus(record.id, ['sending'], 'done', this.clock.now());
    return (await this.store.getBroadcast(record.id)) ?? record;
  }

  /** The text of a recipient row, in the recipient's language; nothing once cancelled. */
  readonly compose = async (
    item: OutboxItemRecord,
    _identity: IdentityRecord,
    subscriber: SubscriberRecord,
  ): Promise<Composed> => {
    if (!item.broadcastId) return { fail: 'broadcast row without a broadcast' };
    const record = await this.cached(item.broadcastId);
    if (!record) return { fail: 'broadcast no longer exists' };
    if (record.status === 'cancelled') return { cancel: 'broadcast cancelled' };
    const text = subscriber.language === 'en' && record.text.en ? record.text.en : record.text.ar;
    return { text };
  };

  private async cached(id: string): Promise<BroadcastRecord | null> {
    const now = performance.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < 1_000) return hit.record;
    const record = await this.store.getBroadcast(id);
    this.cache.set(id, { at: now, record });
    if (this.cache.size > 100) this.cache.delete(this.cache.keys().next().value!);
    return record;
  }
}
