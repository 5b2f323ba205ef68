/**
 * Inbound SMS are recorded before they are acted on (docs/design.md §3): the webhooks answer once the
 * row is written, and a worker processes recorded rows in order, also those left by a process
 * that died. The gateway's own key (Twilio's MessageSid, the Android event id) is the row's
 * unique key, so a message the gateway delivers twice acts once.
 */
import { BatchWorker } from '../core/batch-worker.js';
import type { ConversationService } from '../core/conversation/conversation.service.js';
import { turnMessagePayload } from '../core/outbox/turn-message.js';
import type { Clock } from '../core/ports/clock.port.js';
import type { SmsInboundRecord, Store } from '../core/ports/store.port.js';
import type { Logger } from '../observability/logger.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { smsReplyKey, type ReplyCap } from '../sms/limits.js';
import { isReplyableSender, parsePhone } from '../sms/phone.js';
import type { InboundSms, SmsKeyword } from '../sms/sms-gateway.port.js';
import { isResubscribeWord, smsKeyword } from '../sms/stop-words.js';

export type RecordOutcome = 'recorded' | 'duplicate';

export interface SmsInboxDeps {
  store: Store;
  conversation: ConversationService;
  replyCap: ReplyCap;
  clock: Clock;
  logger: Logger;
  /** Tells the dispatcher that new outbox rows are waiting. */
  wake: () => void;
  idleMs?: number;
}

/** The key a message is recorded under: unique per gateway. */
export function inboundKey(message: Pick<InboundSms, 'gateway' | 'dedupeKey'>): string {
  return `${message.gateway}:${message.dedupeKey}`;
}

function asKeyword(value: string | null): SmsKeyword | null {
  return value === 'stop' || value === 'start' || value === 'help' ? value : null;
}

function dateOrNull(value: string | null): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export class SmsInbox extends BatchWorker {
  constructor(private readonly deps: SmsInboxDeps) {
    super(deps.idleMs ?? 1_000);
  }

  /** Durably records a message and wakes the worker; processing is not awaited. */
  async record(message: InboundSms): Promise<RecordOutcome> {
    const fresh = await this.deps.store.recordSmsInbound({
      gateway: message.gateway,
      dedupeKey: inboundKey(message),
      fromAddress: message.from,
      toAddress: message.to,
      text: message.text,
      receivedAt: dateOrNull(message.receivedAt),
      keyword: message.keyword ?? null,
    });
    if (fresh) this.wake();
    return fresh ? 'recorded' : 'duplicate';
  }

  protected onError(error: unknown): void {
    this.deps.logger.error({ err: error }, 'sms inbound worker failed');
  }

  protected async processBatch(): Promise<number> {
    const rows = await this.deps.store.unprocessedSmsInbound(50);
    for (const row of rows) {
      let error: string | null = null;
      try {
        await this.process(row);
      } catch (e) {
        // The database failing is not the message's fault: the batch stops here, and this row
        // (with the ones after it, in order) is taken again once the database is back.
        if (isDatabaseUnavailable(e)) throw e;
        // Recorded as processed with its error: a poisonous message must not block the rest.
        error = e instanceof Error ? e.message : String(e);
        this.deps.logger.error({ err: e, smsId: row.id }, 'sms inbound failed');
      }
      await this.deps.store.markSmsInboundProcessed(row.id, this.deps.clock.now(), error);
    }
    return rows.length;
  }

  private async process(row: SmsInboundRecord): Promise<void> {
    const { logger, store, conversation } = this.deps;
    // Carriers' and services' names: answering them costs money and reaches nobody.
    const address = isReplyableSender(row.fromAddress) ? parsePhone(row.fromAddress) : null;
    if (!address) {
      logger.info({ smsId: row.id, gateway: row.gateway }, 'sms from a non-replyable sender');
      return;
    }
    // STOP / START / HELP as the whole message win over any open question (docs/design.md §7): the
    // gateway's own verdict first (Twilio's OptOutType: its keywords are configurable, and it
    // has already blocked the number on a STOP), else SMS's wider set of words ("Stop.",
    // "توقف", OPTOUT, and YES / نعم from a number that is opted out).
    const gatewayKeyword = asKeyword(row.keyword);
    const keyword =
      gatewayKeyword ??
      smsKeyword(row.text, conversation.grammar, {
        // Read only for YES / نعم, the one case where the answer changes the keyword.
        optedOut:
          isResubscribeWord(row.text) &&
          ((await store.findIdentity('sms', address))?.optedOut ?? false),
      });
    const outcome = await conversation.handle({
      channel: 'sms',
      address,
      text: row.text,
      ...(keyword ? { keyword } : {}),
    });
    if (gatewayKeyword === 'stop') {
      // Twilio answered the keyword with its own confirmation and refuses anything more to
      // the number (21610): ours could only fail.
      logger.info({ smsId: row.id, gateway: row.gateway }, 'opted out by the gateway');
      return;
    }
    if (!outcome.deliver) return;
    const stopping = outcome.identity.optedOut;
    const reply = turnMessagePayload(outcome.replies, stopping ? [] : outcome.choices, {
      evenIfOptedOut: stopping,
      gateway: row.gateway,
    });
    if (!reply) return;
    // The one confirmation of a STOP always goes; anything else is held to the cap and is
    // not an answer to an auto-responder loop (one statement: see ReplyCap).
    const check = stopping
      ? ({ verdict: 'send', payload: reply } as const)
      : await this.deps.replyCap.check(outcome.identity.id, {
          text: row.text,
          keyword: keyword !== null,
          reply,
        });
    if (check.verdict === 'capped' || check.verdict === 'silent') {
      logger.warn(
        { smsId: row.id },
        check.verdict === 'capped'
          ? 'sms reply cap reached: no reply'
          : 'sms auto-responder loop: no reply',
      );
      return;
    }
    const now = this.deps.clock.now();
    await store.enqueue({
      kind: 'message',
      lane: 'reply',
      identityId: outcome.identity.id,
      channel: 'sms',
      address,
      payload: check.payload,
      dedupeKey: smsReplyKey(row.dedupeKey, outcome.identity.id),
      nextAttemptAt: now,
      createdAt: now,
      ...(check.verdict === 'withhold' ? { withheld: check.reason } : {}),
    });
    if (check.verdict === 'withhold') {
      logger.warn({ smsId: row.id }, 'sms auto-responder loop: not answered for an hour');
      return;
    }
    this.deps.wake();
  }
}
