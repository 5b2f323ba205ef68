/**
 * Hostile and odd text for the random-inputs drill, from a seeded generator (a failing run can
 * be repeated): Arabic with diacritics, tatweel and every digit script, emoji (ZWJ sequences,
 * flags, skin tones), control characters (NUL among them, which PostgreSQL refuses in text),
 * bidi controls and zero-width characters, lone surrogates, numbers past every integer type
 * (as accounts, choices and amounts), very long texts, and commands of the text grammar
 * (docs/design.md §9) with noise mixed in, so that the inputs reach past "not understood" into bills,
 * payments and settings.
 */

export type Random = () => number;

/** A small seeded generator (mulberry32). */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const chars = (s: string) => [...s];
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i));

const POOLS = {
  arabic: chars('ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإؤئىةلا'),
  diacritics: [...range(0x064b, 0x0652), '\u0640', '\u0670'],
  digits: chars('0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹'),
  oddDigits: chars('０１２３４５６７８９𝟎𝟏𝟐𝟑𝟒𝟓¹²³½'),
  latin: chars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  punctuation: chars(' .,;:!?؟،؛"\'()[]{}<>/\\|@#$%^&*_-+=~`€£¥ـ'),
  space: chars(' \u00a0\u2002\u2003\u3000\t'),
  emoji: ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇸🇾', '❤️', '🔥', '🧑‍💻', '🤲🏿', '☪️', '🕌', '💡', '🔌', '🏳️‍🌈'],
  controls: [...range(0x00, 0x1f), '\u007f', ...range(0x80, 0x9f)],
  bidi: [
    '\u200e',
    '\u200f',
    '\u202a',
    '\u202b',
    '\u202c',
    '\u202d',
    '\u202e',
    '\u2066',
    '\u2067',
    '\u2068',
    '\u2069',
    '\u061c',
  ],
  invisible: ['\u200b', '\u200c', '\u200d', '\ufeff', '\u2060', '\u00ad', '\u180e'],
  strange: [
    '\ufffd',
    '\uffff',
    '\ufdfa',
    '\ufdfd',
    '\u0600',
    '\u06dd',
    '\u034f',
    'ﻻ',
    '\u{10ffff}',
    '\u{e0001}',
  ],
  surrogates: ['\ud800', '\udbff', '\udc00', '\udfff'],
  nul: ['\u0000'],
  huge: [
    '2147483648',
    '3000000000',
    '4294967296',
    '9007199254740993',
    '18446744073709551616',
    '99999999999999999999999999999999',
    '-1',
    '-9223372036854775809',
    '1e400',
    '0x7fffffff',
    '١٨٤٤٦٧٤٤٠٧٣٧٠٩٥٥١٦١٦',
  ],
} as const;

type PoolName = keyof typeof POOLS;

export interface FuzzOptions {
  /** Longest text this front accepts (SMS: 1,600; Telegram: 4,096; the sandbox: 5,000). */
  maxLength: number;
  /** Lone surrogates (only the sandbox's JSON can carry them; Telegram and Twilio send UTF-8). */
  surrogates: boolean;
  /** STOP and its forms (they silence the sender; only where the drill tracks that). */
  stopWords: boolean;
  /** An empty text (Twilio sends Body="" for an empty SMS; Telegram never sends empty text). */
  empty: boolean;
}

const ACCOUNTS = [
  '1000101',
  '1000102',
  '2000201',
  '3000301',
  '1234567',
  '100010',
  '999999999999',
  ...POOLS.huge,
];
const INTENTS = [
  'فاتورة',
  'فاتوره',
  'ادفع',
  'دفع',
  'اشترك',
  'حذف',
  'BILL',
  'pay',
  'Add',
  'REMOVE',
  'follow',
];
const BILLERS = [
  'كهرباء',
  'الكهرباء',
  'مياه',
  'ماء',
  'هاتف',
  'انترنت',
  'elec',
  'Water',
  'PHONE',
  'غاز',
  'xyz',
];
const CHANNELS = ['', '', 'سيريتل', 'mtn', 'بنك', 'bank', 'كاش موبايل', 'paypal'];
const WHOLE = [
  'مساعدة',
  'مساعده',
  'HELP',
  'help',
  '?',
  '؟',
  'info',
  'حساباتي',
  'ACCOUNTS',
  'فاتورة',
  'فواتيري',
  'BILLS',
  'قديم',
  'OLD',
  'english',
  'ENGLISH',
  'عربي',
  'Arabic',
  'الغاء',
  'إلغاء',
  'CANCEL',
  'تذكير تشغيل',
  'تذكير ايقاف',
  'REMIND ON',
  'remind off',
  'محافظة دمشق',
  'محافظة الرقة',
  'GOV ALE',
  'gov hom',
  'gov atlantis',
  'أخبرني',
  'أخبرني كهرباء',
  'NOTIFY water',
  'notify bank',
  'بدء',
  'START',
  '/start',
  '/help',
  '/bills',
  '/accounts',
  '/cancel',
  '/broadcast',
  '/unknown',
  '1',
  '2',
  '3',
  '٣',
  '۴',
  '0',
  '00',
  '99',
  '0944123456',
  '+963944123456',
  '٠٩٤٤١٢٣٤٥٦',
  ...POOLS.huge,
  'HELP\u0000',
  'BILL\u0000',
  '\u0000',
];
const STOPS = ['إيقاف', 'ايقاف', 'STOP', 'stop', 'Unsubscribe', 'STOPALL', 'end', 'quit', '/stop'];

export class Fuzzer {
  constructor(private readonly rnd: Random) {}

  private int(min: number, max: number): number {
    return min + Math.floor(this.rnd() * (max - min + 1));
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)] as T;
  }

  private chance(p: number): boolean {
    return this.rnd() < p;
  }

  /** One input for a front. */
  text(o: FuzzOptions): string {
    const r = this.rnd();
    let text: string;
    if (r < 0.3) text = this.command();
    else if (r < 0.42) text = this.pick(o.stopWords && this.chance(0.15) ? STOPS : WHOLE);
    else if (r < 0.85) text = this.garbage(this.length(o.maxLength), o);
    else if (r < 0.9) text = this.blank(o);
    else text = this.long(o.maxLength, o);
    if (r < 0.42 && this.chance(0.35)) text = this.noisy(text, o);
    text = this.fit(text, o.maxLength);
    if (!o.empty && text === '') text = this.pick(POOLS.emoji);
    return text;
  }

  /** A Telegram callback's data: a command, garbage, or a watch request, at most 64 bytes. */
  callbackData(): string {
    const r = this.rnd();
    const data =
      r < 0.4
        ? `${this.pick(['PAY', 'ADD', 'BILL', 'NOTIFY', 'GOV', 'watchpay'])} ${this.pick(['electricity', 'water', 'telecom', 'bank', 'DAM', 'P-XXXXXXXXXX'])} ${this.pick(ACCOUNTS)}`
        : r < 0.6
          ? this.pick(WHOLE)
          : this.garbage(this.int(1, 40), { surrogates: false });
    let out = data;
    while (Buffer.byteLength(out, 'utf8') > 64) out = [...out].slice(0, -1).join('');
    return out || 'x';
  }

  /** A text of the grammar: intent, biller, account in any digit script, maybe a channel. */
  private command(): string {
    const account = this.chance(0.6)
      ? this.pick(ACCOUNTS)
      : Array.from({ length: this.int(1, this.chance(0.1) ? 300 : 20) }, () =>
          this.chance(0.1) ? this.pick([' ', '-']) : this.pick(POOLS.digits),
        ).join('');
    const digits = this.chance(0.3) ? this.rescript(account) : account;
    const parts = this.chance(0.8)
      ? [this.pick(INTENTS), this.pick(BILLERS), digits, this.pick(CHANNELS)]
      : [this.pick(INTENTS), digits, this.pick(BILLERS)];
    return parts.filter((p) => p !== '').join(this.chance(0.9) ? ' ' : '  ');
  }

  /** The same digits in Arabic-Indic or Eastern Arabic-Indic. */
  private rescript(text: string): string {
    const base = this.pick([0x0660, 0x06f0]);
    return text.replace(/[0-9]/g, (d) => String.fromCharCode(base + Number(d)));
  }

  /** Mostly short, sometimes medium, rarely up to the front's limit. */
  private length(max: number): number {
    const r = this.rnd();
    if (r < 0.7) return this.int(1, 60);
    if (r < 0.95) return this.int(60, 400);
    return this.int(400, max);
  }

  private garbage(length: number, o: Pick<FuzzOptions, 'surrogates'>): string {
    const weights: Array<[PoolName, number]> = [
      ['arabic', 30],
      ['diacritics', 5],
      ['digits', 10],
      ['oddDigits', 2],
      ['latin', 15],
      ['punctuation', 8],
      ['space', 8],
      ['emoji', 6],
      ['controls', 4],
      ['bidi', 4],
      ['invisible', 3],
      ['strange', 2],
      ['surrogates', o.surrogates ? 1 : 0],
      ['nul', 1],
      ['huge', 2],
    ];
    const total = weights.reduce((a, [, w]) => a + w, 0);
    const out: string[] = [];
    let units = 0;
    while (units < length) {
      let x = this.rnd() * total;
      let pool: PoolName = 'arabic';
      for (const [name, w] of weights) {
        if ((x -= w) < 0) {
          pool = name;
          break;
        }
      }
      const c = this.pick(POOLS[pool]);
      out.push(c);
      units += c.length;
    }
    return out.join('');
  }

  /** Nothing to read: empty, spaces, line breaks, marks only. */
  private blank(o: FuzzOptions): string {
    const options = [
      ' ',
      '\n\n',
      '\t',
      '\u200b',
      '\u200f\u200e',
      '\u2067\u2069',
      'ـــ',
      '\u064b\u064c',
    ];
    return o.empty && this.chance(0.3) ? '' : this.pick(options);
  }

  /** A very long text near the front's limit: Arabic prose, emoji, or one repeated command. */
  private long(max: number, o: FuzzOptions): string {
    const kind = this.int(0, 3);
    const target = this.int(Math.floor(max * 0.8), max);
    if (kind === 0) return 'فاتورة كهرباء 1000101 '.repeat(Math.ceil(target / 22));
    if (kind === 1) return this.pick(POOLS.emoji).repeat(Math.ceil(target / 2));
    if (kind === 2) return '١'.repeat(target);
    return this.garbage(target, o);
  }

  /** Noise mixed into a meaningful text: bidi and zero-width marks, tatweel, diacritics. */
  private noisy(text: string, o: FuzzOptions): string {
    const noise: PoolName[] = ['bidi', 'invisible', 'diacritics', 'space', 'controls', 'nul'];
    const out: string[] = [];
    for (const c of text) {
      if (this.chance(0.15)) out.push(this.pick(POOLS[this.pick(noise)]));
      out.push(c);
    }
    if (o.surrogates && this.chance(0.1)) out.push(this.pick(POOLS.surrogates));
    return out.join('');
  }

  /** Cut to the front's limit in UTF-16 units, never between a surrogate pair's halves. */
  private fit(text: string, max: number): string {
    if (text.length <= max) return text;
    let cut = text.slice(0, max);
    const last = cut.charCodeAt(cut.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
    return cut;
  }
}
