/**
 * Refusing a request before its body is read (a webhook without its signature header): the
 * answer goes at once, and the connection is closed after it instead of waiting for a body
 * that a slow or hostile client may never finish sending.
 */
import type { Response } from 'express';

export function refuseBeforeBody(res: Response, status: number, body: unknown): void {
  res.set('Connection', 'close');
  res.status(status).json(body);
}
