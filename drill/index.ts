/**
 * `npm run drill [-- --quick] [-- --verbose] [names…]`: fault drills (issue 8). Each drill does
 * something bad to a running Tasdeed — SIGKILL in the middle of a broadcast or of a payment, a
 * biller or payment channel that never answers, replayed webhooks, hostile text, a database
 * that refuses writes — and checks the promises docs/design.md makes about it. One line per drill:
 *
 *   drill <name>: ok — <figures>
 *   drill <name>: FAILED — <figures>      (each broken promise follows on stderr)
 *
 * The exit code is non-zero when any promise is broken. Names select drills
 * (`npm run drill -- replays biller-down`); `--list` prints them. See drill/README.md.
 *
 * As `npm test`, on SQLite unless TEST_DATABASE_URL names a PostgreSQL server: then each drill
 * runs on a database of its own there (tasdeed_t_r<this process>_…, dropped when it ends, and
 * whatever a killed run left behind is dropped first). A drill about SQLite itself says it was
 * skipped.
 */
import { rmSync } from 'node:fs';
import { dropLeftovers, shownUrl } from '../scripts/test-databases.mjs';
import { TEST_DATABASE_URL } from '../test/support/pg.js';
import { billerDown } from './biller-down.js';
import { broadcastCrash } from './broadcast-crash.js';
import { DRILL_DIALECT } from './database.js';
import { dbLocked } from './db-locked.js';
import { randomInputs } from './random-inputs.js';
import { receiptCrash } from './receipt-crash.js';
import { replays } from './replays.js';
import { silentChannel } from './silent-channel.js';
import { Child, secondsSince, tail, tempDirs, type Drill, type DrillOutcome } from './support.js';

const DRILLS: readonly Drill[] = [
  broadcastCrash,
  receiptCrash,
  billerDown,
  silentChannel,
  replays,
  randomInputs,
  dbLocked,
];

function usage(): string {
  return [
    'usage: npm run drill -- [--quick] [--verbose] [--list] [name…]',
    ...DRILLS.map((d) => `  ${d.name.padEnd(16)} ${d.what}`),
  ].join('\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (args.includes('--list')) {
    for (const d of DRILLS) process.stdout.write(`${d.name}\n`);
    return 0;
  }
  const quick = args.includes('--quick');
  const verbose = args.includes('--verbose');
  const unknownFlags = args.filter(
    (a) => a.startsWith('-') && !['--quick', '--verbose'].includes(a),
  );
  const names = args.filter((a) => !a.startsWith('-'));
  const unknownNames = names.filter((name) => !DRILLS.some((d) => d.name === name));
  if (unknownFlags.length > 0 || unknownNames.length > 0) {
    process.stderr.write(`unknown: ${[...unknownFlags, ...unknownNames].join(', ')}\n${usage()}\n`);
    return 2;
  }
  const selected = names.length === 0 ? DRILLS : DRILLS.filter((d) => names.includes(d.name));

  if (TEST_DATABASE_URL) {
    let dropped: number;
    try {
      dropped = await dropLeftovers(TEST_DATABASE_URL, RUN);
    } catch (error) {
      process.stderr.write(
        `drills: the PostgreSQL server of TEST_DATABASE_URL (${shownUrl(TEST_DATABASE_URL)}) does not answer: ` +
          `${error instanceof Error ? error.message : String(error)}\n`,
      );
      return 1;
    }
    process.stdout.write(
      `drills on PostgreSQL, ${shownUrl(TEST_DATABASE_URL)} (TEST_DATABASE_URL)` +
        `${dropped > 0 ? `; ${dropped} leftover test database(s) dropped` : ''}\n`,
    );
  } else {
    process.stdout.write('drills on SQLite (TEST_DATABASE_URL is not set)\n');
  }
  try {
    return await runAll(selected, quick, verbose);
  } finally {
    if (TEST_DATABASE_URL) await dropLeftovers(TEST_DATABASE_URL, RUN).catch(() => undefined);
  }
}

const DIALECT_NAME = DRILL_DIALECT === 'sqlite' ? 'SQLite' : 'PostgreSQL';

/** The run id in this run's PostgreSQL database names (test/support/pg.ts sets it). */
const RUN = Number(process.env.TASDEED_TEST_RUN || process.pid);

async function runAll(selected: readonly Drill[], quick: boolean, verbose: boolean) {
  const started = Date.now();
  let failed = 0;
  let skipped = 0;
  for (const drill of selected) {
    if (drill.only && drill.only.dialect !== DRILL_DIALECT) {
      skipped += 1;
      process.stdout.write(`drill ${drill.name}: skipped on ${DIALECT_NAME} — ${drill.only.why}\n`);
      continue;
    }
    const t0 = Date.now();
    let outcome: DrillOutcome;
    try {
      outcome = await drill.run({
        quick,
        note: (message) => {
          if (verbose) process.stderr.write(`  [${drill.name} ${secondsSince(t0)}] ${message}\n`);
        },
      });
    } catch (error) {
      outcome = {
        numbers: 'did not finish',
        problems: [error instanceof Error ? (error.stack ?? error.message) : String(error)],
      };
    }
    const ok = outcome.problems.length === 0;
    if (!ok) failed += 1;
    process.stdout.write(
      `drill ${drill.name}: ${ok ? 'ok' : 'FAILED'} — ${outcome.numbers}; ${secondsSince(t0)}\n`,
    );
    for (const problem of outcome.problems) process.stderr.write(`  broken: ${problem}\n`);
    if (!ok && outcome.logTail) {
      process.stderr.write(`  Tasdeed's log (end):\n${indent(tail(outcome.logTail, 40))}\n`);
    }
  }
  const ran = selected.length - skipped;
  process.stdout.write(
    `${ran - failed} of ${ran} drills kept their promises on ${DIALECT_NAME}` +
      `${skipped > 0 ? ` (${skipped} skipped)` : ''}${quick ? ' (--quick)' : ''} in ${secondsSince(started)}\n`,
  );
  return failed === 0 ? 0 : 1;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

// Interrupted: the Tasdeed processes of the drill go too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of Child.running) child.killNow();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`drill interrupted (${signal})\n`);
    // This run's PostgreSQL databases go too (a later run would drop them otherwise).
    const dropping = TEST_DATABASE_URL
      ? dropLeftovers(TEST_DATABASE_URL, RUN).catch(() => undefined)
      : Promise.resolve();
    void Promise.race([dropping, new Promise((r) => setTimeout(r, 5_000))]).then(() =>
      process.exit(130),
    );
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
