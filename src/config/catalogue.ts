/**
 * The catalogue file (docs/design.md §4): billers, payment channels and the coverage seed, validated
 * with zod and cross-checked, then handed to the core as a {@link Catalogue}. Every problem
 * is one line: `<source>: <path in the file>: <what is wrong>`. Secret values (tokens,
 * webhook secrets) never appear in problem text.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Catalogue } from '../core/catalogue.js';
import { GOVERNORATE_CODES, isGovernorateCode } from '../core/domain.js';
import { normalizeForMatch } from '../core/text/normalize.js';
import { parseStorableJson } from '../core/text/storable.js';

export type CatalogueResult =
  { ok: true; catalogue: Catalogue } | { ok: false; problems: string[] };

/** Where the built-in demo catalogue lives (read from disk, not imported, so it is validated like any file). */
export const DEMO_CATALOGUE_PATH = fileURLToPath(new URL('./demo-catalogue.json', import.meta.url));

const ID_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const text = z.string().trim().min(1, { error: 'must not be empty' });
// Secrets are kept byte for byte (no trim) and never echoed.
const secret = z.string().refine((s) => s.trim() !== '', { error: 'must not be empty' });

const idSchema = z.string().regex(ID_PATTERN, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not a valid id (expected a lowercase letter, then up to 31 of a-z, 0-9, _ and -)`,
});

const localName = z.object({ ar: text, en: text });

const accountPattern = z
  .string()
  .min(1, { error: 'must not be empty' })
  .superRefine((pattern, ctx) => {
    try {
      new RegExp(pattern);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      ctx.addIssue({ code: 'custom', message: `is not a valid regular expression (${reason})` });
    }
  });

const millis = z
  .number()
  .int()
  .positive({ error: 'must be a positive whole number of milliseconds' });

const simulatedAdapter = z.object({
  type: z.literal('simulated'),
  webhookSecret: secret.optional(),
  timeoutMs: millis.optional(),
  confirmAfterMs: z
    .number()
    .int()
    .nonnegative({ error: 'must be a whole number of milliseconds (0 or more)' })
    .optional(),
});

const httpAdapter = z.object({
  type: z.literal('http'),
  baseUrl: z
    .string()
    .refine(isHttpUrl, { error: 'is not an http:// or https:// URL' })
    .transform((url) => url.replace(/\/+$/, '')),
  token: secret.optional(),
  webhookSecret: secret.optional(),
  timeoutMs: millis.optional(),
});

const adapter = z.discriminatedUnion('type', [simulatedAdapter, httpAdapter], {
  error: (iss) =>
    iss.code === 'invalid_union'
      ? 'is not an adapter type (expected "simulated" or "http")'
      : undefined,
});

const aliases = z.array(text).default([]);

const biller = z.object({
  id: idSchema,
  name: localName,
  aliases,
  accountPattern,
  adapter,
});

const paymentChannel = z
  .object({
    id: idSchema,
    name: localName,
    aliases,
    adapter,
  })
  .superRefine((channel, ctx) => {
    if (channel.adapter.type === 'http' && channel.adapter.webhookSecret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['adapter', 'webhookSecret'],
        message: 'is required for an http payment channel (it signs the payment callbacks)',
      });
    }
  });

const governorate = z
  .string()
  .trim()
  .toUpperCase()
  .refine(isGovernorateCode, {
    error: (iss) =>
      `${JSON.stringify(iss.input)} is not a governorate code (expected one of ${GOVERNORATE_CODES.join(', ')})`,
  });

const coverageEntry = z.object({
  unavailable: z
    .array(governorate)
    .default([])
    .transform((codes) => [...new Set(codes)]),
});

const catalogueSchema = z.object(
  {
    billers: z.array(biller).min(1, { error: 'at least one biller is required' }),
    paymentChannels: z
      .array(paymentChannel)
      .min(1, { error: 'at least one payment channel is required' }),
    coverage: z.record(z.string(), coverageEntry).default({}),
  },
  {
    error: (iss) =>
      iss.code === 'invalid_type'
        ? 'expected a JSON object with "billers", "paymentChannels" and "coverage"'
        : undefined,
  },
);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Friendlier words than zod's defaults for the common cases; undefined keeps zod's. */
function issueText(iss: z.core.$ZodRawIssue): string | undefined {
  if (iss.code === 'invalid_type') {
    if (iss.input === undefined) return `is required (expected ${iss.expected})`;
    return `expected ${iss.expected}, got ${describe(iss.input)}`;
  }
  return undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const name = String(key);
      out += /^[A-Za-z_$][\w$]*$/.test(name)
        ? `${out === '' ? '' : '.'}${name}`
        : `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

function line(source: string, path: string, message: string): string {
  return path === '' ? `${source}: ${message}` : `${source}: ${path}: ${message}`;
}

/** Checks that need the whole catalogue: unique ids, unambiguous names, coverage of known billers. */
function crossCheck(catalogue: Catalogue): Array<{ path: string; message: string }> {
  const found: Array<{ path: string; message: string }> = [];

  const checkIds = (kind: 'billers' | 'paymentChannels', items: Array<{ id: string }>): void => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const first = seen.get(item.id);
      if (first === undefined) seen.set(item.id, i);
      else
        found.push({
          path: `${kind}[${i}].id`,
          message: `duplicate id ${JSON.stringify(item.id)} (also ${kind}[${first}])`,
        });
    });
  };
  checkIds('billers', catalogue.billers);
  checkIds('paymentChannels', catalogue.paymentChannels);

  // A name (id or alias) must lead to one biller or channel. Compared as the conversation
  // matches text: lowercased and Arabic-normalised.
  interface Owner {
    label: string;
    kind: string;
    isId: boolean;
  }
  const names = new Map<string, Owner>();
  const entities = [
    ...catalogue.billers.map((b, i) => ({ kind: 'billers', index: i, item: b })),
    ...catalogue.paymentChannels.map((c, i) => ({ kind: 'paymentChannels', index: i, item: c })),
  ];
  for (const { kind, index, item } of entities) {
    const label = `${kind}[${index}] (${JSON.stringify(item.id)})`;
    const own = new Set<string>();
    const candidates = [
      { path: `${kind}[${index}].id`, value: item.id, isId: true },
      ...item.aliases.map((alias, j) => ({
        path: `${kind}[${index}].aliases[${j}]`,
        value: alias,
        isId: false,
      })),
    ];
    for (const { path, value, isId } of candidates) {
      const key = normalizeForMatch(value);
      if (own.has(key)) continue;
      own.add(key);
      const owner = names.get(key);
      if (owner === undefined) {
        names.set(key, { label, kind, isId });
      } else if (!(isId && owner.isId && owner.kind === kind)) {
        // (two equal ids of one kind are reported above as a duplicate id)
        const what = isId ? 'id' : 'alias';
        found.push({
          path,
          message: `${what} ${JSON.stringify(value)} is already a name of ${owner.label}`,
        });
      }
    }
  }

  const billerIds = new Set(catalogue.billers.map((b) => b.id));
  for (const billerId of Object.keys(catalogue.coverage)) {
    if (!billerIds.has(billerId)) {
      found.push({
        path: formatPath(['coverage', billerId]),
        message: `no biller has the id ${JSON.stringify(billerId)}`,
      });
    }
  }
  return found;
}

/**
 * Validates parsed JSON as a catalogue. `source` names where it came from (a file path) and
 * starts every problem line.
 */
export function parseCatalogue(json: unknown, source: string): CatalogueResult {
  const parsed = catalogueSchema.safeParse(json, { error: issueText });
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((iss) => line(source, formatPath(iss.path), iss.message)),
    };
  }
  const catalogue: Catalogue = parsed.data;
  const problems = crossCheck(catalogue).map((p) => line(source, p.path, p.message));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, catalogue };
}

function readProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT')
    return 'cannot read the catalogue file: no such file (check TASDEED_CATALOGUE)';
  if (code === 'EACCES' || code === 'EPERM')
    return 'cannot read the catalogue file: permission denied';
  if (code === 'EISDIR') return 'cannot read the catalogue file: it is a directory';
  return `cannot read the catalogue file (${error instanceof Error ? error.message : String(error)})`;
}

/** JSON.parse's reason with its quote of the input removed (the input may hold tokens), plus line and column. */
function jsonProblem(error: unknown, content: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message
    .replace(/^(Unexpected token '.*?'),.*$/s, '$1')
    .replace(/,?\s*\S*".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '');
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined) return `is not valid JSON (${reason})`;
  const before = content.slice(0, Number(position));
  const lineNo = before.split('\n').length;
  const column = Number(position) - before.lastIndexOf('\n');
  return `is not valid JSON (${reason} at line ${lineNo}, column ${column})`;
}

/**
 * Reads and validates the catalogue file at `path` (relative paths are relative to the working
 * directory); null = the built-in demo catalogue. A missing file or invalid JSON is one problem.
 */
export function loadCatalogue(path: string | null): CatalogueResult {
  const file = path ?? DEMO_CATALOGUE_PATH;
  let content: string;
  try {
    content = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    return { ok: false, problems: [`${file}: ${readProblem(error)}`] };
  }
  let json: unknown;
  try {
    json = parseStorableJson(content);
  } catch (error) {
    return { ok: false, problems: [`${file}: ${jsonProblem(error, content)}`] };
  }
  return parseCatalogue(json, file);
}
