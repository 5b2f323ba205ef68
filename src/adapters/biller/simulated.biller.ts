/**
 * A simulated biller: deterministic demo accounts, no network, so that every flow can be tried
 * with no outside system (docs/design.md §4, adapter type "simulated").
 *
 * Account numbers (7 digits): <biller prefix><governorate index><01>
 *   - biller prefix: electricity 100, water 200, telecom 300, any other biller 900;
 *   - governorate index: two digits, the governorate's place in GOVERNORATES, 01 = DAM … 14 = QUN;
 *   e.g. electricity in Damascus 1000101, water in Aleppo 2000301, telecom in Idlib 3000801.
 * Each has one unpaid current bill and one older paid bill. Special accounts of every biller:
 *   - <prefix>9901: the biller is "down" for it (getAccount and settle throw BillerUnavailableError);
 *   - <prefix>9902: a bill issued before the 2026 redenomination (period "11-12", due 2025-12-28)
 *     still unpaid, so that old-pound equivalents can be shown.
 * Any other number is unknown (null).
 *
 * The current bill is due on the 28th of the clock's current month, or of the next month after the
 * 20th (dates in Syria's time, UTC+3). Electricity and telecom bill per two-month cycle, labelled
 * like "9-10" (the last cycle that ended before the due month); water bills monthly, labelled "11"
 * (the month before the due month). Amounts depend only on the account number.
 *
 * Settlements live in memory: a settled bill reads back as paid until the process restarts.
 */
import { GOVERNORATES, type GovernorateCode } from '../../core/domain.js';
import { qirsh, type Qirsh } from '../../core/money.js';
import {
  BillerUnavailableError,
  type BillerAccount,
  type BillerBill,
  type BillerPort,
  type SettlementRequest,
  type SettlementResult,
} from '../../core/ports/biller.port.js';
import { systemClock, type Clock } from '../../core/ports/clock.port.js';

export interface SimulatedBillerOptions {
  billerId: string;
  clock?: Clock;
}

export type SimulatedScenario = 'normal' | 'outage' | 'pre-2026';

/** One row of the demo account table (the README prints it). */
export interface SimulatedAccountInfo {
  billerId: string;
  account: string;
  governorate: GovernorateCode;
  holder: string;
  scenario: SimulatedScenario;
  /** The unpaid bill's amount (for "pre-2026": the old unpaid bill's). */
  amountMinor: Qirsh;
  /** Plain-English description of what the account shows. */
  note: string;
}

interface BillerStyle {
  prefix: string;
  /** Two-month cycles ("9-10") or monthly ("11"). */
  cycle: 'bimonthly' | 'monthly';
  /** Range of the current bill in new pounds, and the step amounts are multiples of. */
  minPounds: number;
  maxPounds: number;
  stepPounds: number;
}

const STYLES: Record<string, BillerStyle> = {
  electricity: {
    prefix: '100',
    cycle: 'bimonthly',
    minPounds: 12_000,
    maxPounds: 40_000,
    stepPounds: 50,
  },
  water: { prefix: '200', cycle: 'monthly', minPounds: 1_500, maxPounds: 6_000, stepPounds: 25 },
  telecom: {
    prefix: '300',
    cycle: 'bimonthly',
    minPounds: 4_000,
    maxPounds: 15_000,
    stepPounds: 50,
  },
};
const OTHER_STYLE: BillerStyle = {
  prefix: '900',
  cycle: 'monthly',
  minPounds: 2_000,
  maxPounds: 10_000,
  stepPounds: 50,
};

/** The billers with a prefix of their own, in table order. */
export const SIMULATED_BILLER_IDS = ['electricity', 'water', 'telecom'] as const;

function styleOf(billerId: string): BillerStyle {
  return Object.hasOwn(STYLES, billerId) ? STYLES[billerId]! : OTHER_STYLE;
}

/** The 3-digit account prefix of a biller: 100, 200, 300, or 900 for any other biller. */
export function simulatedAccountPrefix(billerId: string): string {
  return styleOf(billerId).prefix;
}

/** Account holders, rotated over governorates and billers. */
const HOLDERS = [
  'محمد خالد الأحمد',
  'فاطمة حسن العلي',
  'أحمد سمير الخطيب',
  'رنا محمود الحلبي',
  'خالد يوسف الشامي',
  'ليلى إبراهيم المصري',
  'عمر فادي النجار',
  'هبة عبد الله الحسن',
  'يوسف ماهر السيد',
  'سارة نزار القاسم',
  'علي حسين الموسى',
  'نور الدين طه الزعبي',
  'مريم جورج حداد',
  'سامر عادل العمر',
] as const;

/** FNV-1a: a small stable hash so that demo figures depend only on the account number. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function amountFor(style: BillerStyle, seed: string): Qirsh {
  const steps = Math.floor((style.maxPounds - style.minPounds) / style.stepPounds) + 1;
  const pounds = style.minPounds + (hash(seed) % steps) * style.stepPounds;
  return qirsh(pounds * 100);
}

interface Kind {
  scenario: SimulatedScenario;
  governorate: GovernorateCode;
  /** Index in GOVERNORATES (0 for the special accounts). */
  index: number;
}

/** What an account number means for this biller, or null when it is not a demo account. */
function classify(style: BillerStyle, account: string): Kind | null {
  if (!/^\d{7}$/.test(account) || !account.startsWith(style.prefix)) return null;
  const rest = account.slice(3);
  if (rest === '9901') return { scenario: 'outage', governorate: 'DAM', index: 0 };
  if (rest === '9902') return { scenario: 'pre-2026', governorate: 'DAM', index: 0 };
  if (!rest.endsWith('01')) return null;
  const index = Number(rest.slice(0, 2)) - 1;
  const gov = GOVERNORATES[index];
  if (!gov) return null;
  return { scenario: 'normal', governorate: gov.code, index };
}

function holderFor(style: BillerStyle, kind: Kind): string {
  const offset = (Number(style.prefix[0]) - 1) * 5;
  const extra = kind.scenario === 'outage' ? 3 : kind.scenario === 'pre-2026' ? 7 : 0;
  return HOLDERS[(kind.index + offset + extra) % HOLDERS.length]!;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const isoDate = (y: number, m: number, d: number) => `${y}-${pad2(m)}-${pad2(d)}`;

/** Syria has kept UTC+3 all year since 2022. */
const SYRIA_OFFSET_MS = 3 * 60 * 60 * 1000;

/** Year and month (1-12) shifted by `delta` months. */
function addMonths(y: number, m: number, delta: number): { y: number; m: number } {
  const total = y * 12 + (m - 1) + delta;
  return { y: Math.floor(total / 12), m: (total % 12) + 1 };
}

/** The due month of the current bill: this month until the 20th, else the next one. */
function currentDueMonth(now: Date): { y: number; m: number } {
  const local = new Date(now.getTime() + SYRIA_OFFSET_MS);
  const y = local.getUTCFullYear();
  const m = local.getUTCMonth() + 1;
  return local.getUTCDate() <= 20 ? { y, m } : addMonths(y, m, 1);
}

/** The period label of a bill due in month (y, m), and the due month of the bill before it. */
function periodFor(
  style: BillerStyle,
  due: { y: number; m: number },
): { label: string; previousDue: { y: number; m: number } } {
  if (style.cycle === 'monthly') {
    const month = addMonths(due.y, due.m, -1).m;
    return { label: String(month), previousDue: addMonths(due.y, due.m, -1) };
  }
  // The last two-month cycle (1-2, 3-4, …, 11-12) that ended before the due month.
  const prev = addMonths(due.y, due.m, -1);
  const end = prev.m % 2 === 0 ? prev : addMonths(prev.y, prev.m, -1);
  return { label: `${end.m - 1}-${end.m}`, previousDue: addMonths(due.y, due.m, -2) };
}

function billsFor(style: BillerStyle, account: string, kind: Kind, now: Date): BillerBill[] {
  if (kind.scenario === 'pre-2026') {
    return [
      {
        id: `${account}-202511`,
        period: '9-10',
        amountMinor: amountFor(style, `${account}/202511`),
        currency: 'SYP',
        dueDate: '2025-11-28',
        status: 'paid',
      },
      {
        id: `${account}-202512`,
        period: '11-12',
        amountMinor: amountFor(style, account),
        currency: 'SYP',
        dueDate: '2025-12-28',
        status: 'unpaid',
      },
    ];
  }
  const due = currentDueMonth(now);
  const current = periodFor(style, due);
  const prevDue = current.previousDue;
  const previous = periodFor(style, prevDue);
  return [
    {
      id: `${account}-${prevDue.y}${pad2(prevDue.m)}`,
      period: previous.label,
      amountMinor: amountFor(style, `${account}/${prevDue.y}${pad2(prevDue.m)}`),
      currency: 'SYP',
      dueDate: isoDate(prevDue.y, prevDue.m, 28),
      status: 'paid',
    },
    {
      id: `${account}-${due.y}${pad2(due.m)}`,
      period: current.label,
      amountMinor: amountFor(style, account),
      currency: 'SYP',
      dueDate: isoDate(due.y, due.m, 28),
      status: 'unpaid',
    },
  ];
}

/** The demo accounts of one biller (any id; unknown ids use prefix 900). */
export function simulatedAccountsFor(billerId: string): SimulatedAccountInfo[] {
  const style = styleOf(billerId);
  const rows: SimulatedAccountInfo[] = GOVERNORATES.map((g, i) => {
    const account = `${style.prefix}${pad2(i + 1)}01`;
    const kind: Kind = { scenario: 'normal', governorate: g.code, index: i };
    return {
      billerId,
      account,
      governorate: g.code,
      holder: holderFor(style, kind),
      scenario: 'normal',
      amountMinor: amountFor(style, account),
      note: `${g.en}: one unpaid current bill, one older paid bill`,
    };
  });
  for (const [suffix, scenario, note] of [
    ['9901', 'outage', 'the biller is down for this account (simulated outage)'],
    ['9902', 'pre-2026', 'an unpaid bill issued before 2026 (period 11-12, due 2025-12-28)'],
  ] as const) {
    const account = `${style.prefix}${suffix}`;
    const kind: Kind = { scenario, governorate: 'DAM', index: 0 };
    rows.push({
      billerId,
      account,
      governorate: 'DAM',
      holder: holderFor(style, kind),
      scenario,
      amountMinor: amountFor(style, account),
      note,
    });
  }
  return rows;
}

/** Every demo account of the billers with their own prefix (electricity, water, telecom). */
export const SIMULATED_ACCOUNTS: readonly SimulatedAccountInfo[] = Object.freeze(
  SIMULATED_BILLER_IDS.flatMap((id) => simulatedAccountsFor(id)),
);

export class SimulatedBiller implements BillerPort {
  readonly billerId: string;
  private readonly clock: Clock;
  private readonly style: BillerStyle;
  /** bill id → the payment id that settled it. */
  private readonly settled = new Map<string, string>();

  constructor(options: SimulatedBillerOptions) {
    this.billerId = options.billerId;
    this.clock = options.clock ?? systemClock;
    this.style = styleOf(options.billerId);
  }

  getAccount(account: string, signal?: AbortSignal): Promise<BillerAccount | null> {
    if (signal?.aborted) {
      return Promise.reject(
        new BillerUnavailableError(this.billerId, 'aborted by the caller', {
          cause: signal.reason,
        }),
      );
    }
    const kind = classify(this.style, account);
    if (!kind) return Promise.resolve(null);
    if (kind.scenario === 'outage') {
      return Promise.reject(
        new BillerUnavailableError(this.billerId, `simulated outage (account ${account})`, {
          scope: 'account',
        }),
      );
    }
    const bills = billsFor(this.style, account, kind, this.clock.now()).map((bill) =>
      this.settled.has(bill.id) ? { ...bill, status: 'paid' as const } : bill,
    );
    return Promise.resolve({
      account,
      holder: holderFor(this.style, kind),
      governorate: kind.governorate,
      bills,
    });
  }

  settle(request: SettlementRequest, signal?: AbortSignal): Promise<SettlementResult> {
    if (signal?.aborted) {
      return Promise.reject(
        new BillerUnavailableError(this.billerId, 'aborted by the caller', {
          cause: signal.reason,
        }),
      );
    }
    // Bill ids are "<account>-<YYYYMM of the due date>".
    const m = /^(\d{7})-(\d{6})$/.exec(request.billId);
    const kind = m ? classify(this.style, m[1]!) : null;
    if (!m || !kind) {
      return Promise.reject(
        new BillerUnavailableError(this.billerId, `unknown bill ${request.billId}`),
      );
    }
    if (kind.scenario === 'outage') {
      return Promise.reject(
        new BillerUnavailableError(this.billerId, `simulated outage (bill ${request.billId})`, {
          scope: 'account',
        }),
      );
    }
    const by = this.settled.get(request.billId);
    if (by !== undefined)
      return Promise.resolve(by === request.paymentId ? 'acknowledged' : 'conflict');
    // A bill the demo data shows as paid already was "paid at a counter".
    const seeded = billsFor(this.style, m[1]!, kind, this.clock.now()).find(
      (b) => b.id === request.billId,
    );
    if (seeded?.status === 'paid') return Promise.resolve('conflict');
    this.settled.set(request.billId, request.paymentId);
    return Promise.resolve('acknowledged');
  }
}
