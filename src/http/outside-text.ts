/**
 * The HTTP edge of outside text (src/core/text/storable.ts): the body readers the routes use,
 * the query parser, and the rule for paths. Signed bodies (Twilio, the Android gateway, payment
 * channels) are made storable by their parsers instead, after the signature is checked on the
 * bytes as sent.
 */
import { parse as parseQueryString } from 'node:querystring';
import express, { type NextFunction, type Request, type Response } from 'express';
import { hasControlCharacters, storableReviver, storableValue } from '../core/text/storable.js';

/** express.json, every string value storable. */
export function jsonBody(options: { limit: string }): ReturnType<typeof express.json> {
  return express.json({ ...options, reviver: storableReviver });
}

/** express.urlencoded (flat: `extended: false`), every field storable. */
export function formBody(options: {
  limit: string;
  parameterLimit?: number;
}): ReturnType<typeof express.urlencoded> {
  const parse = express.urlencoded({ ...options, extended: false });
  return (req, res, next) => {
    parse(req, res, (error?: unknown) => {
      if (error) {
        next(error);
        return;
      }
      const parsed = req as typeof req & { body?: unknown };
      parsed.body = storableValue(parsed.body);
      next();
    });
  };
}

/** The app's query parser: Express's default ("simple", node:querystring), every value storable. */
export function storableQuery(query: string): Record<string, unknown> {
  return storableValue({ ...parseQueryString(query) });
}

/**
 * A path holding a control character names no route and no id of ours (payment references,
 * broadcast ids): 400 before any lookup, which on PostgreSQL would fail with NUL (500).
 */
export function refuseControlCharactersInPath(
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    res
      .status(400)
      .json({ error: 'bad_request', reason: 'the path is not valid percent-encoding' });
    return;
  }
  if (hasControlCharacters(path)) {
    res.status(400).json({ error: 'bad_request', reason: 'the path holds control characters' });
    return;
  }
  next();
}
