/**
 * The baselines: bare servers that do only the unavoidable part of each request, so that a
 * figure divided by its baseline says what Tasdeed costs on top of it: node:http servers for
 * HTTP + JSON (+ HMAC), and for the fronts the smallest bots on the same libraries (a grammY
 * echo bot, an Express + twilio.webhook() echo) talking to the same provider stand-ins.
 */
import express from 'express';
import { Bot, webhookCallback } from 'grammy';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { verifyWebhookSignature } from '../src/core/payments/webhook-signature.js';
import { RootRewritingRequestClient } from '../src/sms/twilio/twilio.gateway.js';
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

/** An Express app on a free local port (the GET the load generator opens connections with: 204). */
async function listenExpress(app: express.Express): Promise<BareServer> {
  const server = createServer(app);
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
 * A bare grammY echo bot: `webhookCallback` on Express at POST /telegram/webhook (secret token
 * checked by grammY), each text message answered with itself through the Bot API at `apiRoot`
 * (sendMessage, before the webhook is answered, as grammY does by default).
 */
export async function grammyEchoBot(opts: {
  token: string;
  apiRoot: string;
  secret: string;
}): Promise<BareServer> {
  const bot = new Bot(opts.token, { client: { apiRoot: opts.apiRoot } });
  bot.on('message:text', (ctx) => ctx.reply(ctx.message.text));
  await bot.init();
  const app = express();
  app.get('/healthz', (_req, res) => {
    res.status(204).end();
  });
  app.post(
    '/telegram/webhook',
    express.json(),
    webhookCallback(bot, 'express', { secretToken: opts.secret }),
  );
  return listenExpress(app);
}

/**
 * A bare Express + twilio.webhook() echo: POST /sms/twilio/inbound, signature checked by the
 * Twilio library (over the URL the request was made to), answered with empty TwiML at once,
 * and the text sent back to its sender through the REST API at `apiRoot` (the official client,
 * configured as Tasdeed's: the same root-rewriting HTTP client, no automatic retries).
 */
export async function twilioEchoServer(opts: {
  accountSid: string;
  authToken: string;
  apiRoot: string;
  from: string;
  onError: (error: unknown) => void;
}): Promise<BareServer> {
  const client = twilio(opts.accountSid, opts.authToken, {
    httpClient: new RootRewritingRequestClient(opts.apiRoot, { timeout: 15_000, autoRetry: false }),
  });
  const app = express();
  app.get('/healthz', (_req, res) => {
    res.status(204).end();
  });
  app.post(
    '/sms/twilio/inbound',
    express.urlencoded({ extended: false }),
    twilio.webhook(opts.authToken),
    (req, res) => {
      const body = req.body as { From?: string; Body?: string };
      res.type('text/xml').send('<?xml version="1.0" encoding="UTF-8"?><Response/>');
      client.messages
        .create({ to: body.From ?? '', from: opts.from, body: body.Body ?? '' })
        .catch(opts.onError);
    },
  );
  return listenExpress(app);
}
