/**
 * The conversation engine (docs/design.md §9): one inbound message in, replies out as message keys
 * with arguments and choices. Channel-neutral: Telegram, SMS and the sandbox all call it.
 * Whatever must survive a restart (a pending question, a choice list) is in the database.
 */
import { billArgs, BillService, type InquiryResult } from '../bills/bill.service.js';
import type { Catalogue } from '../catalogue.js';
import { isGovernorateCode, mediumOf, type IdentityChannel, type Language } from '../domain.js';
import { reply, type Choice, type ConversationResult, type Reply } from '../i18n/reply.js';
import type { Clock } from '../ports/clock.port.js';
import type {
  AccountSnapshot,
  BillRecord,
  IdentityRecord,
  Store,
  SubscriberRecord,
} from '../ports/store.port.js';
import type { PaymentService } from '../payments/payment.service.js';
import { localDate } from '../schedule/local-time.js';
import { isLatinScript, typedText } from '../text/normalize.js';
import { Grammar, type Command } from './grammar.js';
import { maskName, shortAccount, toE164 } from './wording.js';
import { payerOf, payReplies } from './pay-replies.js';
import { incompleteAnswer, VERBS } from './incomplete.js';
import {
  Pager,
  type Listing,
  type MoreState,
  type PageItem,
  type TurnBudget,
  type TurnReader,
} from './paging.js';
import { offersChoices, openPending, pendingAfter, type Pending } from './pending.js';

export { PENDING_TTL_MS } from './pending.js';
export { maskName, shortAccount, toE164 };

export interface InboundMessage {
  channel: IdentityChannel;
  address: string;
  text?: string;
  /** A choice's payload (a Telegram button, a sandbox choice). */
  payload?: string;
  /**
   * A whole-message keyword the channel recognised itself (SMS carrier words such as "Stop."
   * or "توقف", a gateway's own opt-out report): acted on as that command, whatever the text.
   */
  keyword?: WholeMessageKeyword;
  /**
   * The text is the sender's own phone number, vouched for by the channel (a Telegram contact
   * the sender shared of themself): as a wallet number, it makes them its verified owner.
   */
  ownNumber?: boolean;
}

/** STOP / START / HELP: whole-message commands that win over any open question (docs/design.md §7). */
export type WholeMessageKeyword = 'stop' | 'start' | 'help';

export interface ConversationOutcome extends ConversationResult {
  identity: IdentityRecord;
  subscriber: SubscriberRecord;
  /** False when nothing must be sent (an opted-out address writing again). */
  deliver: boolean;
}

interface Turn {
  identity: IdentityRecord;
  subscriber: SubscriberRecord;
  replies: Reply[];
  choices: Choice[];
  /** Set when the turn leaves a question open. */
  pending?: Pending | null;
  /** What is left of the turn's long answer (MORE). */
  more?: MoreState | null;
}

export interface ConversationOptions {
  /** TASDEED_MAX_FOLLOWS: most accounts one subscriber follows (default 10). */
  maxFollows?: number;
  /** What one answer may cost per medium; null or absent: no paging. */
  budget?: TurnBudget | null;
}

export class ConversationService {
  readonly grammar: Grammar;
  private readonly pager: Pager;
  private readonly maxFollows: number;

  constructor(
    private readonly store: Store,
    private readonly bills: BillService,
    private readonly payments: PaymentService,
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    /** TASDEED_TIMEZONE: what "today" is for due dates. */
    private readonly timezone = 'Asia/Damascus',
    options: ConversationOptions = {},
  ) {
    this.grammar = new Grammar(catalogue);
    this.pager = new Pager(options.budget ?? null);
    this.maxFollows = options.maxFollows ?? 10;
  }

  async handle(message: InboundMessage): Promise<ConversationOutcome> {
    const raw = message.payload ?? message.text ?? '';
    const language: Language = isLatinScript(raw) ? 'en' : 'ar';
    const { identity } = await this.store.ensureIdentity(
      message.channel,
      message.address,
      language,
    );
    const subscriber = await this.store.getSubscriber(identity.subscriberId);
    if (!subscriber) throw new Error(`subscriber ${identity.subscriberId} vanished`);
    const turn: Turn = { identity, subscriber, replies: [], choices: [] };

    let command: Command = message.keyword
      ? { type: message.keyword }
      : this.grammar.parse(raw, { fromPayload: message.payload !== undefined });

    // STOP / START / HELP as the whole message win over any open question.
    if (command.type === 'stop') return this.finish(turn, await this.stop(turn));
    if (command.type === 'start') return this.finish(turn, await this.start(turn));
    if (identity.optedOut) return { ...this.result(turn), deliver: false };
    if (command.type === 'help') return this.finish(turn, [reply('help')]);

    const pending = openPending(subscriber, this.clock.now());
    // A question about the wallet is answered by a phone number; a recognised command instead
    // (the person changed their mind) drops the question and is acted on.
    if (
      pending?.kind === 'wallet' &&
      message.payload === undefined &&
      (command.type === 'unknown' || command.type === 'choice')
    ) {
      const wallet = toE164(raw);
      if (!wallet) {
        turn.pending = pending;
        return this.finish(turn, [reply('wallet-invalid')]);
      }
      turn.subscriber = await this.store.updateSubscriber(subscriber.id, {
        walletNumber: wallet,
        walletVerified: message.ownNumber === true,
      });
      command = this.grammar.parse(pending.payload, { fromPayload: true });
      turn.pending = null;
    } else if (
      pending?.kind === 'account' &&
      message.payload === undefined &&
      /^[\d\s-]+$/.test(typedText(raw))
    ) {
      // Digits answer the open question; anything else is read as a new message.
      const account = typedText(raw).replace(/[\s-]/g, '');
      command = this.grammar.parse(`${VERBS[pending.intent]} ${pending.billerId} ${account}`, {
        fromPayload: true,
      });
    } else if (command.type === 'choice') {
      const payload = pending?.kind === 'choices' ? pending.payloads[command.index - 1] : undefined;
      if (!payload) {
        if (pending) turn.pending = pending;
        return this.finish(turn, [reply(offersChoices(pending) ? 'choice-invalid' : 'help-short')]);
      }
      command = this.grammar.parse(payload, { fromPayload: true });
    }

    if (command.type === 'cancel') {
      turn.pending = null;
      return this.finish(turn, [reply(pending ? 'cancelled' : 'nothing-to-cancel')]);
    }
    if (command.type === 'more') return this.more(turn, command.key);
    const replies = await this.dispatch(turn, command);
    return this.finish(turn, replies);
  }

  private async dispatch(turn: Turn, command: Command): Promise<Reply[]> {
    switch (command.type) {
      case 'bill':
        return command.billerId && command.account
          ? this.billInquiry(turn, command.billerId, command.account)
          : this.allBills(turn);
      case 'pay':
        return this.pay(turn, command.billerId, command.account, command.channelId);
      case 'add':
        return this.follow(turn, command.billerId, command.account);
      case 'remove': {
        const removed = await this.store.unfollow(
          turn.subscriber.id,
          command.billerId,
          command.account,
        );
        return [
          reply(
            removed ? 'unfollowed' : 'not-followed',
            this.accountArgs(command.billerId, command.account),
          ),
        ];
      }
      case 'accounts':
        return this.listAccounts(turn);
      case 'remind':
        turn.subscriber = await this.store.updateSubscriber(turn.subscriber.id, {
          remindersEnabled: command.on,
        });
        return [reply(command.on ? 'remind-on' : 'remind-off')];
      case 'language':
        turn.subscriber = await this.store.updateSubscriber(turn.subscriber.id, {
          language: command.language,
        });
        return [reply('language-set')];
      case 'old':
        turn.subscriber = await this.store.updateSubscriber(turn.subscriber.id, {
          showOldPounds: !turn.subscriber.showOldPounds,
        });
        return [reply(turn.subscriber.showOldPounds ? 'old-on' : 'old-off')];
      case 'gov':
        if (!command.code) return [reply('gov-unknown')];
        turn.subscriber = await this.store.updateSubscriber(turn.subscriber.id, {
          governorate: command.code,
        });
        return [reply('gov-set', { gov: { gov: command.code } })];
      case 'notify':
        return this.notify(turn, command.target);
      case 'watch-payment': {
        await this.store.addWatch({
          kind: 'payment',
          target: command.paymentId,
          subscriberId: turn.subscriber.id,
          identityId: turn.identity.id,
        });
        return [reply('watch-set')];
      }
      case 'incomplete': {
        const answer = incompleteAnswer(this.catalogue, command);
        turn.choices.push(...answer.choices);
        if (answer.pending) turn.pending = answer.pending;
        return answer.replies;
      }
      case 'choice':
      case 'cancel':
      case 'more':
      case 'stop':
      case 'start':
      case 'help':
        return [reply('help-short')];
      case 'unknown':
        return [reply('help-short')];
    }
  }

  // ---- STOP / START --------------------------------------------------------------------

  private async stop(turn: Turn): Promise<Reply[]> {
    if (turn.identity.optedOut) return [];
    await this.store.setOptedOut(turn.identity.id, true, this.clock.now());
    turn.identity = { ...turn.identity, optedOut: true };
    turn.pending = null;
    return [reply('stopped')];
  }

  private async start(turn: Turn): Promise<Reply[]> {
    if (turn.identity.optedOut) {
      await this.store.setOptedOut(turn.identity.id, false, this.clock.now());
      turn.identity = { ...turn.identity, optedOut: false };
    }
    turn.pending = null;
    return [reply('welcome')];
  }

  // ---- Bills ---------------------------------------------------------------------------

  private accountArgs(billerId: string, account: string) {
    return { biller: { biller: billerId }, account };
  }

  private async billInquiry(turn: Turn, billerId: string, account: string): Promise<Reply[]> {
    const result = await this.bills.inquire(billerId, account);
    const choices: Choice[] = [];
    if (result.kind === 'fresh' || result.kind === 'cached') {
      const unpaid = BillService.unpaid(result.snapshot);
      if (unpaid.length > 0 && result.kind === 'fresh') {
        choices.push({ key: 'choice-pay', payload: `PAY ${billerId} ${account}` });
      }
      const follows = await this.store.followsOf(turn.subscriber.id);
      if (!follows.some((f) => f.billerId === billerId && f.account === account)) {
        choices.push({ key: 'choice-follow', payload: `ADD ${billerId} ${account}` });
      }
    } else if (result.kind === 'unavailable') {
      choices.push({ key: 'choice-notify', payload: `NOTIFY ${billerId}` });
    }
    // Many unpaid bills of one account are paged like many accounts.
    return this.page(turn, { items: this.inquiryItems(billerId, account, result), choices });
  }

  /** What an inquiry says: a page item per line (each names the account), with its note. */
  private inquiryItems(billerId: string, account: string, result: InquiryResult): PageItem[] {
    const args = this.accountArgs(billerId, account);
    switch (result.kind) {
      case 'unknown':
        return [{ replies: [reply('account-unknown', args)] }];
      case 'unavailable':
        return [{ replies: [reply('biller-unavailable', { biller: { biller: billerId } })] }];
      case 'fresh':
      case 'cached': {
        const unpaid = BillService.unpaid(result.snapshot);
        const lines: Reply[] =
          unpaid.length === 0
            ? [reply('bill-none-due', args)]
            : unpaid.map((bill) => this.billLine(bill));
        // A biller that is down: every page showing these lines says they are the last known.
        const note =
          result.kind === 'cached'
            ? reply('bill-cached', { biller: { biller: billerId }, age: { ago: result.ageMs } })
            : undefined;
        return lines.map((line) => ({ replies: [line], ...(note ? { note } : {}) }));
      }
    }
  }

  private billLine(bill: BillRecord): Reply {
    return reply('bill-line', billArgs(bill, localDate(this.clock.now(), this.timezone)));
  }

  private async allBills(turn: Turn): Promise<Reply[]> {
    const follows = await this.store.followsOf(turn.subscriber.id);
    if (follows.length === 0) return [reply('no-follows')];
    const results = await this.bills.inquireAll(follows);
    return this.page(turn, {
      items: follows.flatMap((f, i) => this.inquiryItems(f.billerId, f.account, results[i]!)),
    });
  }

  private async follow(turn: Turn, billerId: string, account: string): Promise<Reply[]> {
    // A full list is answered before the biller is asked: the refusal costs nobody anything.
    const full = [reply('follows-full', { count: this.maxFollows })];
    const follows = await this.store.followsOf(turn.subscriber.id);
    const known = follows.some((f) => f.billerId === billerId && f.account === account);
    if (!known && follows.length >= this.maxFollows) return full;
    const result = await this.bills.inquire(billerId, account);
    const args = this.accountArgs(billerId, account);
    if (result.kind === 'unknown') return [reply('account-unknown', args)];
    if (result.kind === 'unavailable') {
      turn.choices.push({ key: 'choice-notify', payload: `NOTIFY ${billerId}` });
      return [reply('biller-unavailable', { biller: { biller: billerId } })];
    }
    const outcome = await this.store.followUpTo(
      turn.subscriber.id,
      billerId,
      account,
      this.maxFollows,
    );
    if (outcome === 'full') return full;
    const added = outcome === 'added';
    const holder = maskName(result.snapshot.holder);
    if (BillService.unpaid(result.snapshot).length > 0) {
      // The reply names the account already: the button only says what it does.
      turn.choices.push({ key: 'choice-see-bill', payload: `BILL ${billerId} ${account}` });
    }
    return [reply(added ? 'followed' : 'already-followed', { ...args, holder })];
  }

  private async listAccounts(turn: Turn): Promise<Reply[]> {
    const follows = await this.store.followsOf(turn.subscriber.id);
    if (follows.length === 0) return [reply('no-follows')];
    return this.page(turn, {
      head: [reply('accounts-header', { count: follows.length })],
      items: follows.map((f) => {
        const args = this.accountArgs(f.billerId, f.account);
        const choices: Choice[] = [
          { key: 'choice-bill', args, payload: `BILL ${f.billerId} ${f.account}` },
        ];
        // Telegram's buttons stop following too (SMS numbers its choices: one per account).
        if (mediumOf(turn.identity.channel) === 'telegram')
          choices.push({
            key: 'choice-unfollow',
            args,
            payload: `REMOVE ${f.billerId} ${f.account}`,
          });
        return { replies: [reply('accounts-item', args)], choices };
      }),
    });
  }

  private readerOf(turn: Turn): TurnReader {
    return { ...turn.subscriber, channel: turn.identity.channel };
  }

  /** The first page of a long answer (or the next, from what MORE kept); the rest is kept. */
  private page(turn: Turn, listing: Listing | MoreState): Reply[] {
    const reader = this.readerOf(turn);
    const page =
      'total' in listing ? this.pager.next(reader, listing) : this.pager.first(reader, listing);
    turn.choices.push(...page.choices);
    turn.more = page.more;
    return page.replies;
  }

  private async notify(
    turn: Turn,
    target?: { kind: 'biller' | 'channel'; id: string },
  ): Promise<Reply[]> {
    if (!target) {
      for (const b of this.catalogue.billers) {
        turn.choices.push({
          key: 'choice-biller',
          args: { biller: { biller: b.id } },
          payload: `NOTIFY ${b.id}`,
        });
      }
      return [reply('notify-which')];
    }
    const name = target.kind === 'biller' ? { biller: target.id } : { channel: target.id };
    // What failed since this process started, or what others already wait on (a restart
    // forgets the first; the recovery probe will tell everyone waiting once it answers).
    const down =
      (target.kind === 'biller'
        ? this.bills.isDown(target.id)
        : this.payments.isChannelDown(target.id)) ||
      (await this.store.hasWatches('biller', `${target.kind}:${target.id}`));
    if (!down) return [reply('notify-up', { name })];
    await this.store.addWatch({
      kind: 'biller',
      target: `${target.kind}:${target.id}`,
      subscriberId: turn.subscriber.id,
      identityId: turn.identity.id,
    });
    return [reply('notify-set', { name })];
  }

  // ---- Payments ------------------------------------------------------------------------

  private async pay(
    turn: Turn,
    billerId: string,
    account: string,
    channelId?: string,
  ): Promise<Reply[]> {
    const args = this.accountArgs(billerId, account);
    const inquiry = await this.bills.inquire(billerId, account);
    if (inquiry.kind === 'unknown') return [reply('account-unknown', args)];
    if (inquiry.kind !== 'fresh') {
      turn.choices.push({ key: 'choice-notify', payload: `NOTIFY ${billerId}` });
      return [reply('pay-biller-unavailable', { biller: { biller: billerId } })];
    }
    const snapshot: AccountSnapshot = inquiry.snapshot;
    if (isGovernorateCode(snapshot.governorate)) {
      const coverage = await this.store.getCoverage(billerId, snapshot.governorate);
      if (coverage && !coverage.available) {
        return [
          reply('pay-uncovered', {
            biller: { biller: billerId },
            gov: { gov: snapshot.governorate },
          }),
        ];
      }
    }
    const bill = BillService.unpaid(snapshot)[0];
    if (!bill) return [reply('bill-none-due', args)];

    // A payment already open for this bill is the answer, before any channel or wallet question:
    // the same payer gets the same reference (docs/design.md §9), another is offered a message.
    const open = await this.payments.openPaymentOf(bill);
    if (open) {
      const kind = open.subscriberId === turn.subscriber.id ? 'same' : 'other-payer';
      return payReplies(turn, args, bill, { kind, payment: open }, this.timezone);
    }

    const channel =
      channelId ??
      (turn.subscriber.lastPaymentChannel &&
      this.payments.channelIds().includes(turn.subscriber.lastPaymentChannel)
        ? turn.subscriber.lastPaymentChannel
        : this.payments.channelIds()[0]);
    if (!channel) return [reply('pay-channel-unavailable-now')];

    // Telegram shows the channels as buttons (the usual one first); SMS keeps one short
    // command and uses the last channel, else the first (docs/design.md §4).
    const channels = this.payments.channelIds();
    if (!channelId && mediumOf(turn.identity.channel) === 'telegram' && channels.length > 1) {
      for (const id of [channel, ...channels.filter((c) => c !== channel)]) {
        turn.choices.push({
          key: 'choice-channel',
          args: { channel: { channel: id } },
          payload: `PAY ${billerId} ${account} ${id}`,
        });
      }
      return [reply('choose-channel', { ...args, amount: billArgs(bill).amount! })];
    }

    const payer = payerOf(turn);
    if (!payer) {
      turn.pending = { kind: 'wallet', payload: `PAY ${billerId} ${account} ${channel}` };
      return [reply('ask-wallet')];
    }

    const outcome = await this.payments.initiate({
      identity: turn.identity,
      bill,
      channelId: channel,
      payerAddress: payer.address,
      payerVerified: payer.verified,
    });
    return payReplies(turn, args, bill, outcome, this.timezone);
  }

  // ---- Turn bookkeeping ----------------------------------------------------------------

  /**
   * MORE: the next page of the list last shown. The page is claimed by replacing the paging
   * state it was read from (a conditional update), so that two MOREs at once give two pages,
   * not one twice: the one that loses reads the state again. A button's `key` names its list;
   * an older list's More pages nothing, whatever is shown since.
   */
  private async more(turn: Turn, key: string | undefined): Promise<ConversationOutcome> {
    for (let attempt = 1; ; attempt++) {
      const pending = openPending(turn.subscriber, this.clock.now());
      const more = pending?.more;
      if (!more || (key !== undefined && more.key !== key)) {
        if (pending) turn.pending = pending;
        return this.finish(turn, [reply(key !== undefined ? 'more-stale' : 'more-none')]);
      }
      // After two lost races (a flood of MOREs), this one goes as read, unconditionally.
      if (attempt >= 3) return this.finish(turn, this.page(turn, more));
      const stored = this.close(turn, this.page(turn, more));
      const at = stored ? this.clock.now() : null;
      const change = { from: turn.subscriber.pending, to: stored, at };
      if (await this.store.replacePending(turn.subscriber.id, change)) {
        turn.subscriber = { ...turn.subscriber, pending: stored, pendingAt: at };
        return { ...this.result(turn), deliver: true };
      }
      const fresh = await this.store.getSubscriber(turn.subscriber.id);
      if (!fresh) throw new Error(`subscriber ${turn.subscriber.id} vanished`);
      Object.assign(turn, { subscriber: fresh, replies: [], choices: [], more: undefined });
    }
  }

  private async finish(turn: Turn, replies: Reply[]): Promise<ConversationOutcome> {
    const stored = this.close(turn, replies);
    if (stored !== turn.subscriber.pending) {
      turn.subscriber = await this.store.updateSubscriber(turn.subscriber.id, {
        pending: stored,
        pendingAt: stored ? this.clock.now() : null,
      });
    }
    return { ...this.result(turn), deliver: true };
  }

  /** Ends the turn with `replies`, kept to the budget; returns the pending state it leaves. */
  private close(turn: Turn, replies: Reply[]): string | null {
    turn.replies.push(...replies);
    // Every answer keeps to the budget, not only the long lists paged above.
    const fitted = turn.more === undefined && this.pager.fit(this.readerOf(turn), turn);
    if (fitted) Object.assign(turn, fitted);
    // Choices offered now become the pending answer list ("1", "2" on SMS).
    const next = pendingAfter(turn);
    return next ? JSON.stringify(next) : null;
  }

  private result(turn: Turn): Omit<ConversationOutcome, 'deliver'> {
    return {
      identity: turn.identity,
      subscriber: turn.subscriber,
      replies: turn.replies,
      choices: turn.choices,
    };
  }
}
