import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEMO_CATALOGUE_PATH, loadCatalogue, parseCatalogue } from '../../src/config/catalogue.js';
import type { Catalogue } from '../../src/core/catalogue.js';

/** docs/design.md §4's example, verbatim. */
const DESIGN_EXAMPLE = `{
  "billers": [
    { "id": "electricity", "name": { "ar": "الكهرباء", "en": "Electricity" },
      "aliases": ["كهرباء", "elec", "electricity"],
      "accountPattern": "^[0-9]{6,12}$",
      "adapter": { "type": "http", "baseUrl": "http://127.0.0.1:9101", "token": "t0k" } }
  ],
  "paymentChannels": [
    { "id": "wallet", "name": { "ar": "محفظة الجوال", "en": "Mobile wallet" },
      "adapter": { "type": "http", "baseUrl": "http://127.0.0.1:9102", "webhookSecret": "s3cr3t" } }
  ],
  "coverage": { "electricity": { "unavailable": ["IDL", "RAQ", "HAS"] } }
}`;

/** A fresh, valid catalogue to break one thing in. */
function valid(): {
  billers: Array<Record<string, unknown>>;
  paymentChannels: Array<Record<string, unknown>>;
  coverage?: Record<string, unknown>;
} {
  return JSON.parse(DESIGN_EXAMPLE) as ReturnType<typeof valid>;
}

function ok(json: unknown): Catalogue {
  const result = parseCatalogue(json, 'cat.json');
  if (!result.ok) assert.fail(result.problems.join('\n'));
  return result.catalogue;
}

/** Exactly one problem, starting with the source and the path, containing every fragment. */
function oneProblem(json: unknown, path: string, ...fragments: string[]): void {
  const result = parseCatalogue(json, 'cat.json');
  if (result.ok) assert.fail(`expected a problem at ${path}`);
  assert.equal(result.problems.length, 1, result.problems.join('\n'));
  const line = result.problems[0] ?? '';
  assert.ok(line.startsWith(`cat.json: ${path}: `), line);
  for (const fragment of fragments)
    assert.ok(line.includes(fragment), `${JSON.stringify(fragment)} not in: ${line}`);
}

const dir = mkdtempSync(join(tmpdir(), 'tasdeed-catalogue-'));
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('the demo catalogue', () => {
  void it('is valid and loaded by loadCatalogue(null)', () => {
    const result = loadCatalogue(null);
    if (!result.ok) assert.fail(result.problems.join('\n'));
    const { catalogue } = result;
    assert.deepEqual(
      catalogue.billers.map((b) => b.id),
      ['electricity', 'water', 'telecom'],
    );
    assert.deepEqual(
      catalogue.paymentChannels.map((c) => c.id),
      ['syriatel-cash', 'mtn-cash', 'bank'],
    );
    assert.deepEqual(catalogue.coverage, { electricity: { unavailable: ['IDL', 'RAQ', 'HAS'] } });
    for (const entity of [...catalogue.billers, ...catalogue.paymentChannels]) {
      assert.deepEqual(entity.adapter, { type: 'simulated' });
      assert.ok(entity.aliases.length > 0, entity.id);
    }
    const electricity = catalogue.billers[0];
    assert.deepEqual(electricity?.name, { ar: 'الكهرباء', en: 'Electricity' });
    assert.ok(electricity?.aliases.includes('كهرباء'));
    assert.equal(electricity?.accountPattern, '^[0-9]{6,12}$');
  });

  void it('is a file beside the module', () => {
    assert.ok(DEMO_CATALOGUE_PATH.endsWith('demo-catalogue.json'));
  });
});

void describe('parseCatalogue', () => {
  void it("accepts docs/design.md §4's example", () => {
    const catalogue = ok(valid());
    assert.deepEqual(catalogue.billers[0]?.adapter, {
      type: 'http',
      baseUrl: 'http://127.0.0.1:9101',
      token: 't0k',
    });
    assert.deepEqual(catalogue.paymentChannels[0]?.aliases, [], 'aliases default to []');
  });

  void it('accepts a catalogue without coverage, and simulated adapters with their options', () => {
    const json = valid();
    delete json.coverage;
    json.billers[0] = {
      ...json.billers[0],
      adapter: { type: 'simulated', timeoutMs: 100, confirmAfterMs: 0, webhookSecret: 'x' },
    };
    const catalogue = ok(json);
    assert.deepEqual(catalogue.coverage, {});
  });

  void it('drops the trailing slash of a base URL', () => {
    const json = valid();
    json.billers[0] = {
      ...json.billers[0],
      adapter: { type: 'http', baseUrl: 'http://127.0.0.1:9101/' },
    };
    assert.deepEqual(ok(json).billers[0]?.adapter, {
      type: 'http',
      baseUrl: 'http://127.0.0.1:9101',
    });
  });

  void it('refuses an account pattern that is not a regular expression', () => {
    const json = valid();
    json.billers[0] = { ...json.billers[0], accountPattern: '^[0-9{6,12}$' };
    oneProblem(json, 'billers[0].accountPattern', 'regular expression');
  });

  void it('refuses an id that is not a lowercase slug', () => {
    const json = valid();
    json.billers[0] = { ...json.billers[0], id: 'Electricity' };
    json.coverage = {};
    oneProblem(json, 'billers[0].id', '"Electricity"', 'id');
  });

  void it('refuses an alias used by two billers (compared lowercased)', () => {
    const json = valid();
    json.billers.push({ ...json.billers[0], id: 'power', aliases: ['ELEC'] });
    oneProblem(json, 'billers[1].aliases[0]', '"ELEC"', 'billers[0]');
  });

  void it('refuses an alias shared by a biller and a payment channel', () => {
    const json = valid();
    json.paymentChannels[0] = { ...json.paymentChannels[0], aliases: ['كهرباء'] };
    oneProblem(json, 'paymentChannels[0].aliases[0]', '"كهرباء"', '"electricity"');
  });

  void it('refuses duplicate ids', () => {
    const json = valid();
    json.paymentChannels.push({ ...json.paymentChannels[0] });
    oneProblem(json, 'paymentChannels[1].id', 'duplicate id "wallet"');
  });

  void it('refuses an unknown governorate code', () => {
    const json = valid();
    json.coverage = { electricity: { unavailable: ['IDL', 'XXX'] } };
    oneProblem(json, 'coverage.electricity.unavailable[1]', '"XXX"', 'governorate');
  });

  void it('refuses coverage for an unknown biller', () => {
    const json = valid();
    json.coverage = { gas: { unavailable: ['IDL'] } };
    oneProblem(json, 'coverage.gas', '"gas"');
  });

  void it('refuses an unknown adapter type', () => {
    const json = valid();
    json.billers[0] = { ...json.billers[0], adapter: { type: 'soap' } };
    oneProblem(json, 'billers[0].adapter.type', 'simulated', 'http');
  });

  void it('refuses an http adapter whose baseUrl is not http(s)', () => {
    const json = valid();
    json.billers[0] = { ...json.billers[0], adapter: { type: 'http', baseUrl: 'ftp://x' } };
    oneProblem(json, 'billers[0].adapter.baseUrl', 'http');
  });

  void it('refuses an http payment channel without a webhook secret', () => {
    const json = valid();
    json.paymentChannels[0] = {
      ...json.paymentChannels[0],
      adapter: { type: 'http', baseUrl: 'http://127.0.0.1:9102' },
    };
    oneProblem(json, 'paymentChannels[0].adapter.webhookSecret', 'required');
  });

  void it('refuses a catalogue without billers or payment channels', () => {
    const json = valid();
    json.billers = [];
    json.coverage = {};
    oneProblem(json, 'billers', 'at least one biller');
    const json2 = valid();
    json2.paymentChannels = [];
    oneProblem(json2, 'paymentChannels', 'at least one payment channel');
  });

  void it('names a missing field', () => {
    const json = valid();
    delete json.billers[0]?.name;
    oneProblem(json, 'billers[0].name', 'required');
  });

  void it('reports every schema problem, one line each', () => {
    const json = valid();
    json.billers[0] = {
      ...json.billers[0],
      accountPattern: '(',
      aliases: [''],
      adapter: { type: 'http', baseUrl: 'x' },
    };
    const result = parseCatalogue(json, 'cat.json');
    assert.ok(!result.ok);
    assert.deepEqual(
      result.problems.map((line) => line.split(': ')[1]),
      ['billers[0].aliases[0]', 'billers[0].accountPattern', 'billers[0].adapter.baseUrl'],
    );
  });

  void it('refuses something that is not an object', () => {
    const result = parseCatalogue([], 'cat.json');
    assert.ok(!result.ok);
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0] ?? '', /^cat\.json: expected a JSON object/);
  });

  void it('never echoes a token or a webhook secret', () => {
    const json = valid();
    json.billers[0] = { ...json.billers[0], adapter: { type: 'http', baseUrl: 'x', token: 7 } };
    json.paymentChannels[0] = {
      ...json.paymentChannels[0],
      adapter: { type: 'http', baseUrl: 'x', webhookSecret: 's3cr3t' },
    };
    const result = parseCatalogue(json, 'cat.json');
    assert.ok(!result.ok);
    for (const line of result.problems) assert.ok(!line.includes('s3cr3t'), line);
  });
});

void describe('loadCatalogue', () => {
  void it('reads a valid file', () => {
    const file = join(dir, 'design.json');
    writeFileSync(file, DESIGN_EXAMPLE);
    const result = loadCatalogue(file);
    assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  });

  void it('starts every problem with the file path', () => {
    const file = join(dir, 'bad-regex.json');
    const json = valid();
    json.billers[0] = { ...json.billers[0], accountPattern: '[' };
    writeFileSync(file, JSON.stringify(json));
    const result = loadCatalogue(file);
    assert.ok(!result.ok);
    assert.deepEqual(result.problems.length, 1);
    assert.ok(
      result.problems[0]?.startsWith(`${file}: billers[0].accountPattern: `),
      result.problems[0],
    );
  });

  void it('reports a missing file in one line with the path', () => {
    const file = join(dir, 'nope.json');
    const result = loadCatalogue(file);
    assert.ok(!result.ok);
    assert.equal(result.problems.length, 1);
    assert.ok(result.problems[0]?.startsWith(`${file}: `), result.problems[0]);
    assert.match(result.problems[0] ?? '', /no such file/);
  });

  void it('reports invalid JSON in one line with the path and position, without quoting the content', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{\n  "billers": [ { "token": "hush-hush" }\n');
    const result = loadCatalogue(file);
    assert.ok(!result.ok);
    assert.equal(result.problems.length, 1);
    const line = result.problems[0] ?? '';
    assert.ok(line.startsWith(`${file}: is not valid JSON`), line);
    assert.match(line, /line 3/);
    assert.ok(!line.includes('hush-hush'), line);

    writeFileSync(file, '{ "token": hush-hush }');
    const again = loadCatalogue(file);
    assert.ok(!again.ok);
    assert.ok(again.problems[0]?.startsWith(`${file}: is not valid JSON`), again.problems[0]);
    assert.ok(!again.problems[0]?.includes('hush-hush'), again.problems[0]);
  });

  void it('reads its strings without NUL and lone surrogates, which a database cannot store', () => {
    const file = join(dir, 'nul.json');
    writeFileSync(
      file,
      DESIGN_EXAMPLE.replace('"الكهرباء"', '"الكهر\\u0000باء"').replace(
        '"Mobile wallet"',
        '"Mobile\\ud800 wallet"',
      ),
    );
    const result = loadCatalogue(file);
    assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
    assert.equal(result.catalogue.billers[0]?.name.ar, 'الكهرباء');
    assert.equal(result.catalogue.paymentChannels[0]?.name.en, 'Mobile wallet');
  });

  void it('accepts a file that starts with a byte order mark', () => {
    const file = join(dir, 'bom.json');
    writeFileSync(file, `\uFEFF${DESIGN_EXAMPLE}`);
    assert.ok(loadCatalogue(file).ok);
  });
});
