/**
 * A local biller that speaks docs/design.md §5's biller protocol, for tests:
 *
 *   GET  /accounts/:account/bills        200 { account, holder, governorate, bills } | 404
 *   POST /bills/:billId/settlements      Idempotency-Key required; 200 settled (the same key again:
 *                                        200 with the same body, no second effect) | 409 paid another
 *                                        way | 404 unknown bill | 400 malformed
 *
 * Knobs: `token` (401 on a wrong bearer), `delayMs` (each request waits before it is handled),
 * `maxInFlight` (the most requests it was handling at once since the last reset: a client's
 * concurrency shows when requests are slow),
 * `failNext(n, status, body?)` (the next n requests get that answer instead), `down` (503),
 * `hangSettlements` (settlements are applied but not answered until it is switched off or the server
 * closes: "money may have moved"), `conflictBills` (bill ids answering 409).
 * Order of handling: logged → delayed → down → failNext → token → route.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, send, tryJson } from './http-util.js';

export interface FakeBill {
  id: string;
  period: string;
  amountMinor: number;
  currency?: string;
  dueDate: string;
  status: 'unpaid' | 'paid';
}

export interface FakeAccount {
  account: string;
  holder: string;
  governorate: string;
  bills: FakeBill[];
}

export interface RecordedRequest {
  method: string;
  /** Path and query as received, e.g. "/accounts/1000101/bills". */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  json: unknown;
  at: Date;
}

export interface FakeSettlement {
  billId: string;
  idempotencyKey: string;
  body: unknown;
  /** settled: a real effect; replayed: the same key again; conflict: answered 409. */
  outcome: 'settled' | 'replayed' | 'conflict';
  at: Date;
}

export interface FakeBillerOptions {
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  accounts?: FakeAccount[];
  delayMs?: number;
}

interface Override {
  status: number;
  body: string;
}

export class FakeBiller {
  /** Base URL, e.g. "http://127.0.0.1:54321". */
  url = '';
  token: string | undefined;
  delayMs: number;
  down = false;
  /** Bill ids whose settlement answers 409. */
  readonly conflictBills = new Set<string>();
  readonly requests: RecordedRequest[] = [];
  /** Requests being handled now, and the most at once (set it to 0 to measure afresh). */
  inFlight = 0;
  maxInFlight = 0;
  readonly settlements: FakeSettlement[] = [];

  private readonly accounts = new Map<string, FakeAccount>();
  private readonly overrides: Override[] = [];
  /** Idempotency key → the answer given when it settled. */
  private readonly answers = new Map<string, { status: number; body: string }>();
  private readonly hanging: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private hang = false;
  private settlementCounter = 0;
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });

  constructor(options: FakeBillerOptions = {}) {
    this.token = options.token;
    this.delayMs = options.delayMs ?? 0;
    for (const a of options.accounts ?? []) this.addAccount(a);
  }

  /** @internal */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Adds (or replaces) an account; returns the stored copy, which tests may change in place. */
  addAccount(account: FakeAccount): FakeAccount {
    const copy: FakeAccount = structuredClone(account);
    this.accounts.set(copy.account, copy);
    return copy;
  }

  getAccount(account: string): FakeAccount | undefined {
    return this.accounts.get(account);
  }

  bill(billId: string): FakeBill | undefined {
    for (const a of this.accounts.values()) {
      const b = a.bills.find((x) => x.id === billId);
      if (b) return b;
    }
    return undefined;
  }

  /** The bill was paid some other way (e.g. at a counter). */
  markPaid(billId: string): void {
    const b = this.bill(billId);
    if (!b) throw new Error(`fake biller: no bill ${billId}`);
    b.status = 'paid';
  }

  /** The next n requests (any route) get this answer instead. `body` may be raw text or a value sent as JSON. */
  failNext(n: number, status = 503, body?: unknown): void {
    const text =
      body === undefined
        ? JSON.stringify({ error: 'injected failure' })
        : typeof body === 'string'
          ? body
          : JSON.stringify(body);
    for (let i = 0; i < n; i++) this.overrides.push({ status, body: text });
  }

  /** Number of distinct idempotency keys that settled a bill: the real effects. */
  effects(): number {
    return new Set(
      this.settlements.filter((s) => s.outcome === 'settled').map((s) => s.idempotencyKey),
    ).size;
  }

  /** Requests with this method whose path starts with the prefix. */
  requestsTo(method: string, pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
  }

  get hangSettlements(): boolean {
    return this.hang;
  }

  /** While true, settlements are applied but not answered; switching it off answers the held ones. */
  set hangSettlements(value: boolean) {
    this.hang = value;
    if (!value) for (const release of this.hanging.splice(0)) release();
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.hanging.splice(0);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once('close', () => (this.inFlight -= 1));
    const body = await readBody(req);
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    this.requests.push({
      method,
      path,
      headers: req.headers,
      body,
      json: tryJson(body),
      at: new Date(),
    });

    if (this.delayMs > 0) await this.sleep(this.delayMs);
    if (this.down) return send(res, 503, { error: 'service unavailable' });
    const override = this.overrides.shift();
    if (override) return send(res, override.status, override.body);
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      return send(res, 401, { error: 'unauthorized' });
    }

    const pathname = new URL(path, 'http://x').pathname;
    let m = /^\/accounts\/([^/]+)\/bills$/.exec(pathname);
    if (m && method === 'GET') return this.getBills(decodeURIComponent(m[1]!), res);
    m = /^\/bills\/([^/]+)\/settlements$/.exec(pathname);
    if (m && method === 'POST') return this.settle(decodeURIComponent(m[1]!), req, body, res);
    return send(res, 404, { error: 'no such route' });
  }

  private getBills(account: string, res: ServerResponse): void {
    const a = this.accounts.get(account);
    if (!a) return send(res, 404, { error: 'unknown account' });
    send(res, 200, {
      account: a.account,
      holder: a.holder,
      governorate: a.governorate,
      bills: a.bills.map((b) => ({ ...b, currency: b.currency ?? 'SYP' })),
    });
  }

  private settle(billId: string, req: IncomingMessage, raw: string, res: ServerResponse): void {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '')
      return send(res, 400, { error: 'Idempotency-Key required' });
    const body = tryJson(raw);
    if (typeof body !== 'object' || body === null)
      return send(res, 400, { error: 'JSON body required' });

    let answer = this.answers.get(key);
    if (answer) {
      this.settlements.push({
        billId,
        idempotencyKey: key,
        body,
        outcome: 'replayed',
        at: new Date(),
      });
    } else {
      const bill = this.bill(billId);
      if (!bill) return send(res, 404, { error: 'unknown bill' });
      if (this.conflictBills.has(billId) || bill.status === 'paid') {
        this.settlements.push({
          billId,
          idempotencyKey: key,
          body,
          outcome: 'conflict',
          at: new Date(),
        });
        answer = { status: 409, body: JSON.stringify({ error: 'bill already paid' }) };
      } else {
        bill.status = 'paid';
        this.settlementCounter += 1;
        this.settlements.push({
          billId,
          idempotencyKey: key,
          body,
          outcome: 'settled',
          at: new Date(),
        });
        answer = {
          status: 200,
          body: JSON.stringify({
            settlementId: `st_${this.settlementCounter}`,
            billId,
            status: 'settled',
          }),
        };
        this.answers.set(key, answer);
      }
    }
    const reply = answer;
    if (this.hang) {
      this.hanging.push(() => send(res, reply.status, reply.body));
      return;
    }
    send(res, reply.status, reply.body);
  }
}

export async function startFakeBiller(options: FakeBillerOptions = {}): Promise<FakeBiller> {
  const fb = new FakeBiller(options);
  await fb.listen();
  return fb;
}
