/**
 * An HTTP proxy in front of a provider stand-in that can hold requests: a held request is never
 * forwarded (the provider never sees it) and never answered, as when the network stalls between
 * Tasdeed and the provider. Used to kill Tasdeed while a request is on its way.
 */
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldRequest {
  method: string;
  path: string;
  body: string;
}

export class HoldingProxy {
  url = '';
  /** Requests matching this are held; null forwards everything. */
  holdIf: ((req: HeldRequest) => boolean) | null = null;
  readonly held: HeldRequest[] = [];
  private readonly heldResponses: ServerResponse[] = [];
  private readonly server: Server;
  private readonly target: URL;

  constructor(target: string) {
    this.target = new URL(target);
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  /** Drops the held requests (their sender is gone) and forwards everything from now on. */
  release(): void {
    this.holdIf = null;
    for (const res of this.heldResponses.splice(0)) res.destroy();
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const seen: HeldRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      body: body.toString('utf8'),
    };
    if (this.holdIf?.(seen)) {
      this.held.push(seen);
      this.heldResponses.push(res);
      return;
    }
    const headers = { ...req.headers, host: this.target.host };
    const upstream = request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  }
}
