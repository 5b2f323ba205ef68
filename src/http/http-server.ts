/**
 * The Node HTTP server around the Express app, with limits against slow and numerous clients: a
 * client that sends its headers or its body a byte at a time is answered 408 and cut off once
 * HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS are over, an idle keep-alive connection is
 * closed after HTTP_KEEPALIVE_TIMEOUT_MS, and connections beyond HTTP_MAX_CONNECTIONS are refused.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { HttpConfig } from '../config/http-env.js';

/**
 * Node checks the header and request timeouts on a timer (every 30 s by default), so a 10 s
 * limit would really be 10-40 s: check often enough that a limit holds to within a quarter of
 * the shorter one (and at most once every 50 ms).
 */
export function checkingIntervalMs(
  limits: Pick<HttpConfig, 'headersTimeoutMs' | 'requestTimeoutMs'>,
): number {
  const shorter = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return Math.min(1_000, Math.max(50, Math.floor(shorter / 4)));
}

export function createHttpServer(app: RequestListener, limits: HttpConfig): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    app,
  );
  server.maxConnections = limits.maxConnections;
  return server;
}
