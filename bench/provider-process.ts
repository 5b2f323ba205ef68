/**
 * The providers of the dispatcher benchmark, in a child process of bench/index.ts (forked over
 * IPC, like bench/load-client.ts) so that serving them costs Tasdeed's event loop nothing: one
 * protocol stand-in of test/support (fake Bot API, fake Twilio, fake Android gateway) behind a
 * front that enforces the provider's rate limit (bench/rate-limited.ts).
 *
 * Times are absolute milliseconds (performance.timeOrigin + performance.now()), comparable
 * across the two processes.
 */
import { performance } from 'node:perf_hooks';
import { measureSms } from '../src/sms/sms-renderer.js';
import { startFakeAndroidSms } from '../test/support/fake-android-sms.server.js';
import { FakeTelegram } from '../test/support/fake-telegram.server.js';
import { startFakeTwilio } from '../test/support/fake-twilio.server.js';
import {
  androidPolicy,
  LimitedFront,
  telegramPolicy,
  twilioPolicy,
  type LimitPolicy,
  type SlidingWindow,
} from './rate-limited.js';

export type ProviderKind = 'telegram' | 'twilio' | 'android';

export type ProviderRequest =
  | { id: number; op: 'start'; kind: ProviderKind; limit: number }
  | { id: number; op: 'reset' }
  | { id: number; op: 'report' }
  | { id: number; op: 'stop' };

/** What Tasdeed needs to talk to the provider: the front's URL and the stand-in's credentials. */
export interface ProviderStarted {
  url: string;
  credentials: Record<string, string>;
}

export interface ProviderReport {
  /** Admitted messages: absolute arrival time (ms), recipient, the stand-in's HTTP status. */
  deliveries: Array<{ at: number; to: string; status: number; answeredAt: number }>;
  refused: Record<string, number>;
  maxInWindow: number;
}

export type ProviderResponse =
  | { id: number; ok: true; result: ProviderStarted | ProviderReport | null }
  | { id: number; ok: false; error: string };

interface Live {
  front: LimitedFront;
  window: SlidingWindow;
  close(): Promise<void>;
}

const smsParts = (text: string) => measureSms(text).parts;
const absolute = (t: number) => performance.timeOrigin + t;

async function start(kind: ProviderKind, limit: number): Promise<{ live: Live } & ProviderStarted> {
  let upstream: string;
  let policy: LimitPolicy & { window: SlidingWindow };
  let credentials: Record<string, string>;
  let closeFake: () => Promise<void>;
  if (kind === 'telegram') {
    const fake = await new FakeTelegram().start();
    upstream = fake.apiRoot;
    policy = telegramPolicy(limit);
    credentials = { token: fake.token };
    closeFake = () => fake.close();
  } else if (kind === 'twilio') {
    const fake = await startFakeTwilio();
    upstream = fake.url;
    policy = twilioPolicy(limit, smsParts);
    credentials = { accountSid: fake.accountSid, authToken: fake.authToken };
    closeFake = () => fake.close();
  } else {
    const fake = await startFakeAndroidSms();
    upstream = fake.url;
    policy = androidPolicy(limit, smsParts);
    credentials = {
      user: fake.user,
      password: fake.password,
      webhookSecret: fake.webhookSecret,
    };
    closeFake = () => fake.close();
  }
  const front = await new LimitedFront(upstream, policy).listen();
  return {
    url: front.url,
    credentials,
    live: {
      front,
      window: policy.window,
      async close() {
        await front.close();
        await closeFake();
      },
    },
  };
}

let live: Live | null = null;

async function handle(request: ProviderRequest): Promise<ProviderStarted | ProviderReport | null> {
  switch (request.op) {
    case 'start': {
      if (live) throw new Error('a provider is already running');
      const started = await start(request.kind, request.limit);
      live = started.live;
      return { url: started.url, credentials: started.credentials };
    }
    case 'reset':
      live?.front.resetCounts();
      if (live) live.window.maxInWindow = 0;
      return null;
    case 'report':
      if (!live) throw new Error('no provider is running');
      return {
        deliveries: live.front.deliveries.map((d) => ({
          ...d,
          at: absolute(d.at),
          answeredAt: absolute(d.answeredAt),
        })),
        refused: Object.fromEntries(live.front.refused),
        maxInWindow: live.window.maxInWindow,
      };
    case 'stop':
      await live?.close();
      live = null;
      return null;
  }
}

if (process.send) {
  process.on('message', (raw: unknown) => {
    const request = raw as ProviderRequest;
    handle(request).then(
      (result) => process.send?.({ id: request.id, ok: true, result } satisfies ProviderResponse),
      (error: unknown) =>
        process.send?.({
          id: request.id,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        } satisfies ProviderResponse),
    );
  });
  process.on('disconnect', () => {
    void live?.close().finally(() => process.exit(0));
    if (!live) process.exit(0);
  });
  process.send({ ready: true });
}
