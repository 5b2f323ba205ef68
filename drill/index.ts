/**
 * `npm run drill [-- --quick] [-- --verbose] [names…]`: fault drills (issue 8). Each drill does
 * something bad to a running Tasdeed — SIGKILL in the middle of a broadcast or of a payment, a
 * biller or payment channel that never answers, replayed webhooks, hostile text, a database
 * that refuses writes — and checks the promises DESIGN.md makes about it. One line per drill:
 *
 *   drill <name>: ok — <figures>
 *   drill <name>: FAILED — <figures>      (each broken promise follows on stderr)
 *
 * The exit code is non-zero when any promise is broken. Names select drills
 * (`npm run drill -- replays biller-down`); `--list` prints them. See drill/README.md.
 */
import { rmSync } from 'node:fs';
import { billerDown } from './biller-down.js';
import { broadcastCrash } from './broadcast-crash.js';
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

  const started = Date.now();
  let failed = 0;
  for (const drill of selected) {
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
  process.stdout.write(
    `${selected.length - failed} of ${selected.length} drills kept their promises${quick ? ' (--quick)' : ''} in ${secondsSince(started)}\n`,
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
    process.exit(130);
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
