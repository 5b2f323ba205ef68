/**
 * The load generator, run by bench/index.ts as a child process (`node --import tsx`): it takes
 * jobs over IPC, runs them against 127.0.0.1 and sends back raw latencies. Keeping it out of the
 * server's process leaves the server's event loop to the server. Not meant to be run by hand.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { textUpdate } from '../test/support/fake-telegram.server.js';
import { keepAliveAgent, send } from './http.js';
import type {
  ChatJob,
  ChatResult,
  FromClient,
  Job,
  JobResult,
  LoadJob,
  LoadResult,
  ReceiptJob,
  ReceiptResult,
  RequestSpec,
  SinkJob,
  SinkResult,
  ToClient,
} from './protocol.js';
import { ReplyTally, startBotApi, startTwilioApi, type StandIn } from './stand-ins.js';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const agent = keepAliveAgent(job.concurrency);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let unexpected = 0;
  let firstProblem: string | null = null;
  let next = 0;
  if (job.primePath !== undefined) {
    const prime = { method: 'GET', path: job.primePath } as const;
    await Promise.all(
      Array.from({ length: job.concurrency }, () => send(agent, job.port, prime).catch(() => null)),
    );
  }
  const started = performance.now();
  const deadline = started + job.maxMs;
  let lastDone = started;

  const worker = async (): Promise<void> => {
    while (next < job.maxCount && performance.now() < deadline) {
      const i = next++;
      const spec = job.items[i % job.items.length]!;
      const t0 = performance.now();
      try {
        const answer = await send(agent, job.port, spec);
        const t1 = performance.now();
        latencies.push(t1 - t0);
        lastDone = t1;
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        const ok = answer.status >= 200 && answer.status < 300;
        if (!ok || (job.expectBodyIncludes && !answer.body.includes(job.expectBodyIncludes))) {
          unexpected += 1;
          firstProblem ??= `${spec.method} ${spec.path} → ${answer.status} ${answer.body.slice(0, 300)}`;
        }
      } catch (error) {
        errors += 1;
        lastDone = performance.now();
        firstProblem ??= `${spec.method} ${spec.path}: ${describe(error)}`;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: job.concurrency }, () => worker()));
  } finally {
    agent.destroy();
  }
  return {
    kind: 'load',
    latencies,
    elapsedMs: lastDone - started,
    completed: latencies.length,
    statuses,
    errors,
    unexpected,
    firstProblem,
  };
}

async function runReceipts(job: ReceiptJob): Promise<ReceiptResult> {
  const agent = keepAliveAgent(1);
  const result: ReceiptResult = {
    kind: 'receipt',
    latencies: [],
    polls: [],
    pollRtts: [],
    timedOut: 0,
    errors: 0,
    firstProblem: null,
  };
  const deadline = performance.now() + job.maxMs;
  try {
    for (const step of job.steps) {
      if (performance.now() >= deadline) break;
      try {
        const hook = await send(agent, job.port, step.webhook);
        if (hook.status !== 200) {
          result.errors += 1;
          result.firstProblem ??= `webhook → ${hook.status} ${hook.body.slice(0, 300)}`;
          continue;
        }
        const answeredAt = performance.now();
        const stepDeadline = answeredAt + job.stepTimeoutMs;
        let polls = 0;
        let seenAt: number | null = null;
        while (performance.now() < stepDeadline) {
          const p0 = performance.now();
          const inbox = await send(agent, job.port, step.poll);
          const p1 = performance.now();
          polls += 1;
          result.pollRtts.push(p1 - p0);
          const messages = (JSON.parse(inbox.body) as { messages?: unknown[] }).messages ?? [];
          if (inbox.status === 200 && messages.length > 0) {
            // The receipt was listed at some point during this poll; the answer's arrival is
            // the latest that point can be.
            seenAt = p1;
            break;
          }
          if (job.pollIntervalMs > 0) await sleep(job.pollIntervalMs);
        }
        if (seenAt === null) {
          result.timedOut += 1;
          result.firstProblem ??= `no receipt within ${job.stepTimeoutMs} ms (${step.poll.path})`;
          continue;
        }
        result.latencies.push(seenAt - answeredAt);
        result.polls.push(polls);
      } catch (error) {
        result.errors += 1;
        result.firstProblem ??= describe(error);
      }
    }
  } finally {
    agent.destroy();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Conversations: webhooks in, replies counted at the provider stand-in in this process

let sink: { standIn: StandIn; tally: ReplyTally } | null = null;

async function startSink(job: SinkJob): Promise<SinkResult> {
  await sink?.standIn.close();
  sink = null;
  const tally = new ReplyTally();
  const standIn =
    job.provider === 'telegram'
      ? await startBotApi(tally.onMessage)
      : await startTwilioApi(tally.onMessage);
  sink = { standIn, tally };
  return { kind: 'sink', url: standIn.url, credentials: standIn.credentials };
}

/** Update ids never repeat within a run (Tasdeed records updates by id). */
let nextUpdateId = 1_000_000;

/** X-Twilio-Signature: HMAC-SHA1 over the URL and the sorted params, as Twilio signs. */
function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

function chatRequest(job: ChatJob, address: string, text: string): RequestSpec {
  if (job.front === 'telegram') {
    return {
      method: 'POST',
      path: job.path,
      headers: {
        'Content-Type': 'application/json',
        'X-Telegram-Bot-Api-Secret-Token': job.secret,
      },
      body: JSON.stringify({ update_id: nextUpdateId++, ...textUpdate(Number(address), text) }),
    };
  }
  const params: Record<string, string> = {
    MessageSid: `SM${randomBytes(16).toString('hex')}`,
    AccountSid: sink?.standIn.credentials.accountSid ?? '',
    From: address,
    To: job.to ?? '',
    Body: text,
  };
  return {
    method: 'POST',
    path: job.path,
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Twilio-Signature': twilioSignature(job.secret, job.signedUrl ?? '', params),
    },
    body: new URLSearchParams(params).toString(),
  };
}

async function runChat(job: ChatJob): Promise<ChatResult> {
  const current = sink;
  if (!current) throw new Error('chat job without a stand-in (run a sink job first)');
  const { tally } = current;
  const agent = keepAliveAgent(job.lanes);
  const result: ChatResult = {
    kind: 'chat',
    latencies: [],
    elapsedMs: 0,
    completed: 0,
    statuses: {},
    errors: 0,
    unexpected: 0,
    timedOut: 0,
    extraReplies: 0,
    firstProblem: null,
  };
  const before = new Map(job.addresses.map((a) => [a, tally.count(a)]));
  // Connections are opened before the clock starts.
  await Promise.all(
    Array.from({ length: job.lanes }, () =>
      send(agent, job.port, { method: 'GET', path: '/healthz' }).catch(() => null),
    ),
  );
  const started = performance.now();
  const deadline = started + job.maxMs;
  let lastDone = started;
  let next = 0;
  const lane = async (k: number): Promise<void> => {
    const mine = job.addresses.filter((_, i) => i % job.lanes === k);
    for (let j = 0; mine.length > 0 && next < job.maxCount && performance.now() < deadline; j++) {
      const i = next++;
      const address = mine[j % mine.length]!;
      const spec = chatRequest(job, address, job.texts[i % job.texts.length]!);
      const expected = tally.count(address) + 1;
      const t0 = performance.now();
      let answeredAt: number;
      try {
        const answer = await send(agent, job.port, spec);
        answeredAt = performance.now();
        result.statuses[answer.status] = (result.statuses[answer.status] ?? 0) + 1;
        const ok = answer.status >= 200 && answer.status < 300;
        if (!ok || (job.expectBodyIncludes && !answer.body.includes(job.expectBodyIncludes))) {
          result.unexpected += 1;
          result.firstProblem ??= `${spec.path} → ${answer.status} ${answer.body.slice(0, 300)}`;
          continue;
        }
      } catch (error) {
        result.errors += 1;
        result.firstProblem ??= `${spec.path}: ${describe(error)}`;
        continue;
      }
      const at = await tally.arrival(address, expected, job.replyTimeoutMs);
      if (at === null) {
        result.timedOut += 1;
        result.firstProblem ??= `no reply to ${address} within ${job.replyTimeoutMs} ms`;
        // Which reply answers which message is no longer known for this address: stop here.
        return;
      }
      result.latencies.push(at - t0);
      lastDone = Math.max(lastDone, at, answeredAt);
    }
  };
  try {
    await Promise.all(Array.from({ length: job.lanes }, (_, k) => lane(k)));
  } finally {
    agent.destroy();
  }
  result.completed = result.latencies.length;
  result.elapsedMs = lastDone - started;
  // Late replies (a second message to one question) would show here.
  await sleep(250);
  let got = 0;
  for (const [address, n] of before) got += tally.count(address) - n;
  result.extraReplies = Math.max(0, got - result.completed);
  return result;
}

function run(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case 'load':
      return runLoad(job);
    case 'receipt':
      return runReceipts(job);
    case 'sink':
      return startSink(job);
    case 'chat':
      return runChat(job);
  }
}

function reply(message: FromClient): void {
  process.send?.(message);
}

process.on('message', (raw: unknown) => {
  const message = raw as ToClient;
  if ('stop' in message) {
    void (sink?.standIn.close() ?? Promise.resolve()).finally(() => process.disconnect?.());
    return;
  }
  run(message.job).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (error: unknown) => reply({ id: message.id, ok: false, error: describe(error) }),
  );
});
reply({ ready: true });
