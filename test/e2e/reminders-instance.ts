/**
 * A second Tasdeed in a child process, on the same database as the test's own instance (the
 * directory's SQLite file or PostgreSQL database; two instances in one process would share one
 * event loop, and better-sqlite3 waits for a lock synchronously: each would stall the other). Driven by JSON lines on stdin:
 *   {"at": iso}    sets its fake clock        {"tick": n}  runs n ticks at once
 *   {"drain": true} lets its dispatcher run    {"stop": true} stops and exits
 * and answers each with one line `@@ <json>` on stdout ({"ready": true} once started).
 *
 * Run as: node --import tsx test/e2e/reminders-instance.ts '<InstancePlace JSON>' <start iso>
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FakeClock } from '../support/harness.js';
import { startReminderTasdeed, type InstancePlace } from './reminders-rig.js';

type Command = { at?: string; tick?: number; drain?: boolean; stop?: boolean };

function answer(value: unknown): void {
  process.stdout.write(`@@ ${JSON.stringify(value)}\n`);
}

async function main(): Promise<void> {
  const place = JSON.parse(process.argv[2] ?? '{}') as InstancePlace;
  const clock = new FakeClock(new Date(process.argv[3] ?? ''));
  const t = await startReminderTasdeed({ ...place, clock, scheduler: false });
  answer({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line) as Command;
    if (cmd.at) clock.advance(new Date(cmd.at).getTime() - clock.now().getTime());
    if (cmd.tick) {
      const ticks = Array.from({ length: cmd.tick }, () => t.tasdeed.reminders.tick());
      answer({ ticks: await Promise.all(ticks) });
    } else if (cmd.drain) {
      answer({ drained: await t.tasdeed.dispatcher.drain() });
    } else if (cmd.stop) {
      await t.close();
      answer({ stopped: true });
      process.exit(0);
    } else {
      answer({ ok: true });
    }
  }
}

/** The parent's side: spawns the instance and talks to it. */
export class ChildInstance {
  private readonly waiting: Array<(value: Record<string, unknown>) => void> = [];
  private output = '';
  private constructor(private readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('@@ ')) return;
      this.waiting.shift()?.(JSON.parse(line.slice(3)) as Record<string, unknown>);
    });
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async spawn(place: InstancePlace, startIso: string): Promise<ChildInstance> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(place), startIso],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env } },
    );
    const instance = new ChildInstance(child);
    const ready = await instance.next(30_000);
    if (ready.ready !== true) throw new Error(`child did not start: ${instance.output}`);
    return instance;
  }

  async send(cmd: Command): Promise<Record<string, unknown>> {
    const reply = this.next(30_000);
    this.child.stdin?.write(`${JSON.stringify(cmd)}\n`);
    return reply;
  }

  /** Stops the child cleanly (or kills it, should it not answer). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    try {
      await this.send({ stop: true });
    } catch {
      this.child.kill('SIGKILL');
    }
    await exited;
  }

  private next(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`child instance did not answer: ${this.output}`));
      }, timeoutMs);
      this.waiting.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
