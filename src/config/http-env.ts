/**
 * The HTTP server's own settings: its limits against slow or numerous clients, which
 * proxy names the client (`TRUST_PROXY`), and the token of `/metrics`. Parsed by env.ts with the
 * same rules as every other variable: unset or blank = the default, one line per problem,
 * secret values never echoed.
 */
import { isIP } from 'node:net';

/**
 * Express's `trust proxy` setting: `true` (the left-most `X-Forwarded-For` address, whoever
 * sent it), `false` (the connection's address), a number of proxy hops to trust, or the proxies
 * to trust (names `loopback`, `linklocal`, `uniquelocal`, addresses and CIDR ranges).
 */
export type TrustProxy = boolean | number | string[];

export interface HttpConfig {
  /** Time a client has to send the request's headers (`HTTP_HEADERS_TIMEOUT_MS`). */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, body included (`HTTP_REQUEST_TIMEOUT_MS`). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (`HTTP_KEEPALIVE_TIMEOUT_MS`). */
  keepAliveTimeoutMs: number;
  /** Connections served at once; more are refused (`HTTP_MAX_CONNECTIONS`). */
  maxConnections: number;
  trustProxy: TrustProxy;
  /** Bearer token of `/metrics`; null = open. */
  metricsToken: string | null;
}

/** What the parser needs of env.ts's reader. */
export interface HttpEnvReader {
  /** The trimmed value, or undefined when unset or blank. */
  raw(name: string): string | undefined;
  problem(name: string, text: string): void;
}

export const HTTP_DEFAULTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_000,
} as const;

const MAX_TIMEOUT_MS = 3_600_000;
const MIN_METRICS_TOKEN_LENGTH = 16;
const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

function integer(
  r: HttpEnvReader,
  name: string,
  fallback: number,
  min: number,
  max: number,
  what: string,
): number {
  const value = r.raw(name);
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    r.problem(name, `${quoted(value)} is not ${what} (an integer from ${min} to ${max})`);
    return fallback;
  }
  return n;
}

/** An address, or an address with a prefix length or an IPv4 netmask, as proxy-addr takes them. */
function isProxyAddress(item: string): boolean {
  const [address = '', range, extra] = item.split('/');
  const version = isIP(address);
  if (extra !== undefined || version === 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (version === 4 ? 32 : 128);
  return version === 4 && isIP(range) === 4;
}

function parseTrustProxy(r: HttpEnvReader): TrustProxy {
  const name = 'TRUST_PROXY';
  const value = r.raw(name);
  if (value === undefined) return false;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops <= 100) return hops;
    r.problem(name, `${quoted(value)} is too many proxy hops (expected 0 to 100)`);
    return false;
  }
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const bad = items.filter((item) => !PROXY_NAMES.includes(item) && !isProxyAddress(item));
  for (const item of bad)
    r.problem(
      name,
      `${quoted(item)} is not a proxy (expected true, false, a hop count, or a comma-separated list of loopback, linklocal, uniquelocal, addresses and CIDR ranges such as 10.0.0.0/8)`,
    );
  return bad.length > 0 ? false : items;
}

function parseMetricsToken(r: HttpEnvReader): string | null {
  const value = r.raw('METRICS_TOKEN');
  if (value === undefined) return null;
  if (value.length < MIN_METRICS_TOKEN_LENGTH)
    r.problem(
      'METRICS_TOKEN',
      `is shorter than ${MIN_METRICS_TOKEN_LENGTH} characters (use a long random value, or unset it to leave /metrics open)`,
    );
  return value;
}

export function parseHttpEnv(r: HttpEnvReader): HttpConfig {
  const timeout = (name: string, fallback: number) =>
    integer(r, name, fallback, 1, MAX_TIMEOUT_MS, 'a time in milliseconds');
  const headersTimeoutMs = timeout('HTTP_HEADERS_TIMEOUT_MS', HTTP_DEFAULTS.headersTimeoutMs);
  const requestTimeoutMs = timeout('HTTP_REQUEST_TIMEOUT_MS', HTTP_DEFAULTS.requestTimeoutMs);
  // Node refuses a header timeout longer than the request timeout: the request includes them.
  if (headersTimeoutMs > requestTimeoutMs)
    r.problem(
      'HTTP_HEADERS_TIMEOUT_MS',
      `${headersTimeoutMs} is longer than HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs}); the headers are part of the request`,
    );
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: timeout('HTTP_KEEPALIVE_TIMEOUT_MS', HTTP_DEFAULTS.keepAliveTimeoutMs),
    maxConnections: integer(
      r,
      'HTTP_MAX_CONNECTIONS',
      HTTP_DEFAULTS.maxConnections,
      1,
      1_000_000,
      'a number of connections',
    ),
    trustProxy: parseTrustProxy(r),
    metricsToken: parseMetricsToken(r),
  };
}
