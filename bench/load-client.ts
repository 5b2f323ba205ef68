/**
 * The load generator, run by bench/index.ts as a child process (`node --import tsx`): it takes
 * jobs over IPC, runs them against 127.0.0.1 and sends back raw latencies. Keeping it out of the
 * server's process leaves the server's event loop to the server. Not meant to be run by hand.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { keepAliveAgent, send } from './http.js';
import type {
  FromClient,
  Job,
  JobResult,
  LoadJob,
  LoadResult,
  ReceiptJob,
  ReceiptResult,
  ToClient,
} from './protocol.js';

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

function run(job: Job): Promise<JobResult> {
  return job.kind === 'load' ? runLoad(job) : runReceipts(job);
}

function reply(message: FromClient): void {
  process.send?.(message);
}

process.on('message', (raw: unknown) => {
  const message = raw as ToClient;
  if ('stop' in message) {
    process.disconnect?.();
    return;
  }
  run(message.job).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (error: unknown) => reply({ id: message.id, ok: false, error: describe(error) }),
  );
});
reply({ ready: true });
