/**
 * The text grammar shared by SMS and Telegram (docs/design.md §9). Input is matched after
 * normalisation (digits in any script, Arabic letter forms, case); the result is a command
 * the conversation acts on. Button payloads are canonical commands in the same grammar.
 */
import type { Catalogue } from '../catalogue.js';
import { GOVERNORATES, type GovernorateCode, type Language } from '../domain.js';
import { normalizeForMatch } from '../text/normalize.js';

export type Command =
  | { type: 'bill'; billerId?: string; account?: string }
  | { type: 'pay'; billerId: string; account: string; channelId?: string }
  | { type: 'add'; billerId: string; account: string }
  | { type: 'remove'; billerId: string; account: string }
  | { type: 'accounts' }
  | { type: 'remind'; on: boolean }
  | { type: 'language'; language: Language }
  | { type: 'notify'; target?: { kind: 'biller' | 'channel'; id: string } }
  | { type: 'gov'; code: GovernorateCode | null }
  | { type: 'old' }
  | { type: 'cancel' }
  /** The next page of a long answer; `key` (a button's) names the list it belongs to. */
  | { type: 'more'; key?: string }
  | { type: 'stop' }
  | { type: 'start' }
  | { type: 'help' }
  /** A numbered answer to a pending choice (SMS). */
  | { type: 'choice'; index: number }
  /** Internal, only from a button payload: tell me when that payment completes. */
  | { type: 'watch-payment'; paymentId: string }
  /** The intent was recognised but the biller or account is missing or wrong. */
  | {
      type: 'incomplete';
      intent: 'bill' | 'pay' | 'add' | 'remove';
      problem: 'biller' | 'account';
      billerId?: string;
      account?: string;
    }
  | { type: 'unknown' };

/** Longer than this, a message is not a command: answered with help, never parsed. */
export const MAX_COMMAND_LENGTH = 300;

type Intent = 'bill' | 'pay' | 'add' | 'remove';

interface Vocabulary {
  /** Whole-message words (normalised) → command. */
  whole: Map<string, Command>;
  /** First word(s) → intent taking a biller and an account. */
  intents: Array<[string, Intent]>;
  billerAliases: Array<[string, string]>;
  channelAliases: Array<[string, string]>;
  governorates: Array<[string, GovernorateCode]>;
}

const n = normalizeForMatch;

/**
 * An Arabic name with and without the definite article: people write "فاتورة الكهرباء" and
 * "فاتورة كهرباء", "الإنترنت" and "انترنت" (normalised text: "ال" is never a letter form).
 */
function withAndWithoutArticle(alias: string): string[] {
  if (!/^[\u0600-\u06FF]/.test(alias)) return [alias];
  return alias.startsWith('ال') && alias.length > 3
    ? [alias, alias.slice(2)]
    : [alias, `ال${alias}`];
}

function unique<T>(pairs: Array<[string, T]>): Array<[string, T]> {
  const seen = new Set<string>();
  return pairs.filter(([key]) => !seen.has(key) && seen.add(key) !== undefined);
}

/** Builds the matcher for a catalogue; build once and reuse. */
export class Grammar {
  private readonly vocab: Vocabulary;

  constructor(private readonly catalogue: Catalogue) {
    const whole = new Map<string, Command>();
    const put = (words: string[], command: Command) => {
      for (const w of words) whole.set(n(w), command);
    };
    put(['فاتورة', 'فواتير', 'فواتيري', 'bill', 'bills', '/bills'], { type: 'bill' });
    put(['حساباتي', 'accounts', '/accounts'], { type: 'accounts' });
    put(['تذكير تشغيل', 'remind on', 'reminders on'], { type: 'remind', on: true });
    put(['تذكير إيقاف', 'تذكير ايقاف', 'remind off', 'reminders off'], {
      type: 'remind',
      on: false,
    });
    put(['عربي', 'عربية', 'arabic'], { type: 'language', language: 'ar' });
    put(['english', 'انجليزي', 'انكليزي'], { type: 'language', language: 'en' });
    put(['قديم', 'old'], { type: 'old' });
    put(['الغاء', 'إلغاء', 'cancel', '/cancel'], { type: 'cancel' });
    put(['المزيد', 'مزيد', 'more', '/more'], { type: 'more' });
    put(['إيقاف', 'ايقاف', 'stop', 'unsubscribe', '/stop', 'stopall', 'end', 'quit'], {
      type: 'stop',
    });
    put(['بدء', 'ابدأ', 'start', '/start', 'unstop'], { type: 'start' });
    put(['مساعدة', 'مساعده', '؟', '?', 'help', '/help', 'info'], { type: 'help' });
    put(['أخبرني', 'اخبرني', 'notify'], { type: 'notify' });

    const intents: Array<[string, Intent]> = [
      ['فاتورة', 'bill'],
      ['فاتوره', 'bill'],
      ['bill', 'bill'],
      ['ادفع', 'pay'],
      ['دفع', 'pay'],
      ['pay', 'pay'],
      ['اشترك', 'add'],
      ['اشتراك', 'add'],
      ['add', 'add'],
      ['follow', 'add'],
      ['حذف', 'remove'],
      ['remove', 'remove'],
      ['unfollow', 'remove'],
    ];
    const aliases = (
      items: Array<{ id: string; aliases: string[]; name: { ar: string; en: string } }>,
    ) =>
      unique(
        items.flatMap((item) =>
          [item.id, item.name.ar, item.name.en, ...item.aliases]
            .map(n)
            .flatMap(withAndWithoutArticle)
            .map((a): [string, string] => [a, item.id]),
        ),
      )
        .filter(([alias]) => alias.length > 0)
        // Longest first so that "rif dimashq" wins over "rif", "ريف دمشق" over "دمشق".
        .sort((a, b) => b[0].length - a[0].length);

    // "دير الزور" is also written "ديرالزور", "Deir ez-Zor" "deir ezzor": spaces and dashes
    // inside a governorate's name are optional.
    const governorates = unique(
      GOVERNORATES.flatMap((g) =>
        [g.code, g.ar, g.en]
          .map(n)
          .flatMap(withAndWithoutArticle)
          .flatMap((a) => [a, a.replace(/[\s-]/g, '')])
          .map((a): [string, GovernorateCode] => [a, g.code]),
      ),
    ).sort((a, b) => b[0].length - a[0].length);

    this.vocab = {
      whole,
      intents: intents.map(([w, i]): [string, Intent] => [n(w), i]),
      billerAliases: aliases(catalogue.billers),
      channelAliases: aliases(catalogue.paymentChannels),
      governorates,
    };
  }

  /** Parses a message (or a button payload when `fromPayload`). */
  parse(raw: string, options: { fromPayload?: boolean } = {}): Command {
    if (raw.length > MAX_COMMAND_LENGTH) return { type: 'unknown' };
    const text = n(raw);
    if (text.length === 0) return { type: 'unknown' };

    const whole = this.vocab.whole.get(text);
    if (whole) return whole;

    if (/^\d{1,2}$/.test(text)) return { type: 'choice', index: Number(text) };

    if (options.fromPayload) {
      const m = /^watchpay ([a-z0-9-]{4,64})$/.exec(text);
      if (m?.[1]) return { type: 'watch-payment', paymentId: m[1].toUpperCase() };
      const more = /^more ([a-z0-9]{1,16})$/.exec(text);
      if (more?.[1]) return { type: 'more', key: more[1] };
    }

    const [first, ...restWords] = text.split(' ');
    const rest = restWords.join(' ');

    if (first === 'gov' || first === 'محافظه' || first === 'المحافظه') {
      return { type: 'gov', code: this.governorate(rest) };
    }
    if (first === 'notify' || first === 'اخبرني') return this.parseNotify(rest);
    if (first === 'remind' || first === 'تذكير') {
      if (['on', 'تشغيل'].includes(rest)) return { type: 'remind', on: true };
      if (['off', 'ايقاف'].includes(rest)) return { type: 'remind', on: false };
      return { type: 'unknown' };
    }

    const intent = this.vocab.intents.find(([w]) => w === first)?.[1];
    if (!intent) return { type: 'unknown' };
    return this.parseAccountCommand(intent, rest);
  }

  /** The biller whose aliases include this text, if any. */
  billerByAlias(text: string): string | undefined {
    return this.vocab.billerAliases.find(([a]) => a === n(text))?.[1];
  }

  private parseNotify(rest: string): Command {
    if (rest === '') return { type: 'notify' };
    const biller = this.vocab.billerAliases.find(([a]) => a === rest)?.[1];
    if (biller) return { type: 'notify', target: { kind: 'biller', id: biller } };
    const channel = this.vocab.channelAliases.find(([a]) => a === rest)?.[1];
    if (channel) return { type: 'notify', target: { kind: 'channel', id: channel } };
    return { type: 'notify' };
  }

  private governorate(text: string): GovernorateCode | null {
    if (!text) return null;
    const bare = text.replace(/[\s-]/g, '');
    return this.vocab.governorates.find(([a]) => a === text || a === bare)?.[1] ?? null;
  }

  private parseAccountCommand(intent: Intent, rest: string): Command {
    // Accept "<biller> <account>" and "<account> <biller>", and an account written with
    // spaces or dashes between digit groups ("123 456 7").
    let billerId: string | undefined;
    let remaining = rest;
    const leading = this.takeAlias(this.vocab.billerAliases, remaining);
    if (leading) {
      billerId = leading.id;
      remaining = leading.rest;
    }
    const accountMatch = /^(\d[\d -]*\d|\d)(?:\s+(.*))?$/.exec(remaining);
    let account: string | undefined;
    let tail = remaining;
    if (accountMatch?.[1]) {
      account = accountMatch[1].replace(/[ -]/g, '');
      tail = accountMatch[2] ?? '';
    }
    if (!billerId && account) {
      const trailing = this.takeAlias(this.vocab.billerAliases, tail);
      if (trailing) {
        billerId = trailing.id;
        tail = trailing.rest;
      }
    }
    if (intent === 'bill' && !billerId && !account && rest === '') return { type: 'bill' };
    if (!billerId)
      return { type: 'incomplete', intent, problem: 'biller', ...(account ? { account } : {}) };
    if (!account) return { type: 'incomplete', intent, problem: 'account', billerId };
    const biller = this.catalogue.billers.find((b) => b.id === billerId);
    if (biller && !new RegExp(biller.accountPattern).test(account)) {
      return { type: 'incomplete', intent, problem: 'account', billerId, account };
    }
    if (intent === 'pay') {
      const channel = tail ? this.takeAlias(this.vocab.channelAliases, tail) : null;
      if (tail && (!channel || channel.rest !== '')) return { type: 'unknown' };
      return channel
        ? { type: 'pay', billerId, account, channelId: channel.id }
        : { type: 'pay', billerId, account };
    }
    if (tail !== '') return { type: 'unknown' };
    return { type: intent, billerId, account };
  }

  private takeAlias(
    aliases: Array<[string, string]>,
    text: string,
  ): { id: string; rest: string } | null {
    for (const [alias, id] of aliases) {
      if (text === alias) return { id, rest: '' };
      if (text.startsWith(`${alias} `)) return { id, rest: text.slice(alias.length + 1) };
    }
    return null;
  }
}
