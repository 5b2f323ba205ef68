/**
 * A minimal keep-alive HTTP client on node:http, the same for Tasdeed and the baselines, so that
 * both sides of every ratio pay the same client costs. Talks to 127.0.0.1 only.
 */
import { Agent, request } from 'node:http';
import type { RequestSpec } from './protocol.js';

export const HOST = '127.0.0.1';

export interface Answer {
  status: number;
  body: string;
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** Sends one request and reads the whole answer; rejects on a connection error or timeout. */
export function send(
  agent: Agent,
  port: number,
  spec: RequestSpec,
  timeoutMs = 10_000,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...spec.headers };
    if (spec.body !== undefined) headers['Content-Length'] = Buffer.byteLength(spec.body);
    const req = request(
      { host: HOST, port, method: spec.method, path: spec.path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** POSTs JSON and parses the JSON answer (setup steps, not measured). */
export async function postJson(
  agent: Agent,
  port: number,
  path: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  const answer = await send(agent, port, {
    method: 'POST',
    path,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  let json: unknown;
  try {
    json = JSON.parse(answer.body) as unknown;
  } catch {
    json = answer.body;
  }
  return { status: answer.status, json };
}
