/**
 * Start-up as an operator meets it: `npm start`'s entry point with bad configuration, an edited
 * migration, and `npm run chat` end to end on the embedded defaults.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { migrateSqlite } from '../../src/db/migrate.js';
import { freePort, SandboxUser, spawnTasdeed, waitFor } from '../support/harness.js';

describe('start-up', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tasdeed-startup-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function assertNoStackTrace(output: string) {
    assert.doesNotMatch(output, /^\s+at .+\(.*:\d+:\d+\)$/m, output);
  }

  it('refuses invalid configuration with one clear line per problem and a non-zero exit', async () => {
    const run = spawnTasdeed({
      PORT: 'abc',
      TASDEED_TIMEZONE: 'Mars/Olympus',
      TELEGRAM_BOT_TOKEN: '123:secret-token-value',
      TELEGRAM_MODE: 'webhook',
      SMS_GATEWAY: 'twilio',
      DATABASE_URL: `file:${join(dir, 'never.db')}`,
    });
    assert.equal(await run.exited, 1);
    const out = run.output();
    assert.match(out, /^tasdeed: PORT: .*abc/m);
    assert.match(out, /^tasdeed: TASDEED_TIMEZONE: .*Mars\/Olympus/m);
    assert.match(out, /^tasdeed: TELEGRAM_WEBHOOK_SECRET: /m);
    assert.match(out, /^tasdeed: TWILIO_ACCOUNT_SID: /m);
    assert.match(out, /^tasdeed: TWILIO_AUTH_TOKEN: /m);
    assert.doesNotMatch(out, /secret-token-value/, 'secrets never printed');
    assertNoStackTrace(out);
  });

  it('names the catalogue file and the field when the catalogue is invalid', async () => {
    const file = join(dir, 'bad-catalogue.json');
    writeFileSync(
      file,
      JSON.stringify({
        billers: [
          {
            id: 'Bad Id',
            name: { ar: 'x', en: 'x' },
            accountPattern: '([',
            adapter: { type: 'simulated' },
          },
        ],
        paymentChannels: [],
      }),
    );
    const run = spawnTasdeed({
      TASDEED_CATALOGUE: file,
      PORT: String(await freePort()),
      DATABASE_URL: `file:${join(dir, 'never2.db')}`,
    });
    assert.equal(await run.exited, 1);
    assert.match(
      run.output(),
      new RegExp(`tasdeed: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: billers\\[0\\]`),
    );
    assertNoStackTrace(run.output());
  });

  it('npm start with no environment: port 3000, SQLite under ./data, a bill paid in the sandbox', async (t) => {
    // Free only if this process can listen there itself (whatever holds it, HTTP or not).
    const busy = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(true));
      probe.listen(3000, '0.0.0.0', () => probe.close(() => resolve(false)));
    });
    if (busy) {
      t.skip('something already listens on port 3000 on this machine');
      return;
    }
    const cwd = join(dir, 'fresh');
    mkdirSync(cwd);
    // Nothing but PATH: every setting takes its default (docs/design.md §3).
    const run = spawnTasdeed({}, { cwd });
    try {
      const url = 'http://127.0.0.1:3000';
      await waitFor('port 3000', () =>
        fetch(`${url}/readyz`).then(
          (r) => r.ok || undefined,
          () => undefined,
        ),
      );
      assert.ok(existsSync(join(cwd, 'data', 'tasdeed.db')), 'the database is ./data/tasdeed.db');
      const user = new SandboxUser(url, 'sms', '+963944100077');
      const bill = await user.say('فاتورة مياه 2000401');
      assert.match(bill.replies[0]!, /^المياه 2000401: \d+ ل\.س/);
      const pay = await user.say('1');
      const ref = /P-[0-9A-Z]{10}/.exec(pay.replies[0] ?? '')?.[0];
      assert.ok(ref, JSON.stringify(pay));
      const [receipt] = await user.waitForInbox(1);
      assert.match(receipt!.text, new RegExp(`^إيصال: .* المرجع ${ref}$`));
    } finally {
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0, run.output());
    }
  });

  it('names HOST when it cannot be listened on', async () => {
    const run = spawnTasdeed({
      HOST: 'no-such-host.invalid',
      PORT: String(await freePort()),
      DATABASE_URL: `file:${join(dir, 'host.db')}`,
    });
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /^tasdeed: HOST: "no-such-host\.invalid" is not a known host name/m);
    assertNoStackTrace(run.output());
  });

  it('refuses to start on a database whose applied migration was edited', async () => {
    const file = join(dir, 'edited.db');
    await migrateSqlite(file);
    const db = new BetterSqlite3(file);
    db.prepare(`UPDATE _tasdeed_migrations SET checksum = 'edited' WHERE name LIKE '0001%'`).run();
    db.close();
    const run = spawnTasdeed({ DATABASE_URL: `file:${file}`, PORT: String(await freePort()) });
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /^tasdeed: .*0001_init\.sql.*edited/m);
    // Not a configuration problem: the last line does not send the operator to the environment.
    assert.match(run.output(), /^tasdeed: not started; fix the problem above and start again\.$/m);
    assertNoStackTrace(run.output());
  });

  it('npm run chat: a bill inquiry and a payment end to end, receipt included', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/chat.ts', '--from', '+963944777000', '--linger', '4'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          PORT: String(port),
          DATABASE_URL: `file:${join(dir, 'chat.db')}`,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end('فاتورة كهرباء ١٠٠٠١٠١\n1\n');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, out);
    assert.match(out, /^< الكهرباء 1000101: \d+ ل\.س، [\d-]+، حتى \d\d\/\d\d/m);
    assert.match(out, /^< دفعة P-[0-9A-Z]{10}: /m);
    assert.match(out, /^<< إيصال: دُفع \d+ ل\.س لفاتورة الكهرباء 1000101/m);
  });

  it('npm run chat: an unknown option gets one line and the usage, not a stack trace', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/chat.ts', '--bogus'], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 2, err);
    assert.match(err, /^chat: Unknown option '--bogus'/m);
    assert.match(err, /^usage: npm run chat -- /m);
    assertNoStackTrace(err);
  });
});
