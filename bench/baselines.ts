/**
 * The baselines: bare node:http servers that do only the unavoidable part of each request, so
 * that a figure divided by its baseline says what Tasdeed costs on top of HTTP + JSON (+ HMAC).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../src/core/payments/webhook-signature.js';
import { HOST } from './http.js';

export interface BareServer {
  port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<BareServer> {
  const server: Server = createServer((req, res) => {
    // GET: the load generator opening its connections before the clock starts.
    if (req.method === 'GET') return answer(res, 204, '');
    handler(req, res).catch((error: unknown) => answer(res, 500, JSON.stringify(String(error))));
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Parses the JSON body and answers a fixed JSON reply shaped and sized like Tasdeed's answer
 * to a bill inquiry (`reply` is Tasdeed's own answer, captured during the warm-up).
 */
export function bareJsonServer(reply: string): Promise<BareServer> {
  return listen(async (req, res) => {
    const raw = await readBody(req);
    const body = JSON.parse(raw.toString('utf8')) as { from?: unknown };
    if (typeof body.from !== 'string') return answer(res, 400, '{"error":"bad_request"}');
    answer(res, 200, reply);
  });
}

/** Verifies the webhook's HMAC over the raw bytes and answers 200, as Tasdeed's route must. */
export function bareWebhookServer(secret: string): Promise<BareServer> {
  return listen(async (req, res) => {
    const raw = await readBody(req);
    const header = req.headers['x-tasdeed-signature'];
    const check = verifyWebhookSignature(
      secret,
      raw,
      typeof header === 'string' ? header : undefined,
      new Date(),
    );
    if (check !== 'ok') return answer(res, 401, JSON.stringify({ error: 'invalid_signature' }));
    answer(res, 200, '{"ok":true,"outcome":"applied"}');
  });
}
