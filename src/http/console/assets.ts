/**
 * The console's and the sandbox page's static files, read once at start: each is served with a
 * content hash in its URL (cached for a year by the browser), gzip-compressed when accepted.
 * No bundler: the files are served as written (and Chartist as its package ships it).
 */
import { Router, type Request, type Response } from 'express';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { acceptsGzip } from './html.js';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  gzip: Buffer;
  hash: string;
  type: string;
}

/** Files of this folder's assets/ by name. */
export function consoleAsset(name: string): string {
  return fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
}

/** A file of an installed package (Chartist's browser build and its stylesheet). */
export function packageFile(specifier: string): string {
  return createRequire(import.meta.url).resolve(specifier);
}

export class Assets {
  private readonly files = new Map<string, Asset>();

  /** `files`: URL name → path on disk. */
  constructor(
    private readonly prefix: string,
    files: Record<string, string>,
  ) {
    for (const [name, path] of Object.entries(files)) {
      // The browser build ends with a source map comment; its map is not served.
      const text = readFileSync(path, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
      const body = Buffer.from(text, 'utf8');
      this.files.set(name, {
        body,
        gzip: gzipSync(body, { level: 9 }),
        hash: createHash('sha256').update(body).digest('hex').slice(0, 12),
        type: TYPES[extname(name)] ?? 'application/octet-stream',
      });
    }
  }

  /** The URL of a file, with its content hash (a new version is a new URL). */
  url(name: string): string {
    const asset = this.files.get(name);
    if (!asset) throw new Error(`no asset ${name}`);
    return `${this.prefix}/${name}?v=${asset.hash}`;
  }

  router(): Router {
    const router = Router();
    router.get('/:name', (req: Request, res: Response) => {
      const asset = this.files.get(String(req.params.name));
      if (!asset) {
        res.status(404).json({ error: 'not_found' });
        return;
      }
      res.setHeader('Content-Type', asset.type);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Vary', 'Accept-Encoding');
      res.setHeader('ETag', `"${asset.hash}"`);
      res.setHeader(
        'Cache-Control',
        req.query.v === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
      if (req.get('If-None-Match') === `"${asset.hash}"`) {
        res.status(304).end();
        return;
      }
      if (acceptsGzip(req)) {
        res.setHeader('Content-Encoding', 'gzip');
        res.end(asset.gzip);
      } else {
        res.end(asset.body);
      }
    });
    return router;
  }
}
