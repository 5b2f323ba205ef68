/**
 * Start-up as an operator meets it: `npm start`'s entry point with bad configuration, an edited
 * migration, and `npm run chat` end to end on the embedded defaults.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { migrateSqlite } from '../../src/db/migrate.js';
import { freePort, spawnTasdeed } from '../support/harness.js';

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

  it('refuses to start on a database whose applied migration was edited', async () => {
    const file = join(dir, 'edited.db');
    await migrateSqlite(file);
    const db = new BetterSqlite3(file);
    db.prepare(`UPDATE _tasdeed_migrations SET checksum = 'edited' WHERE name LIKE '0001%'`).run();
    db.close();
    const run = spawnTasdeed({ DATABASE_URL: `file:${file}`, PORT: String(await freePort()) });
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /^tasdeed: .*0001_init\.sql.*edited/m);
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
});
