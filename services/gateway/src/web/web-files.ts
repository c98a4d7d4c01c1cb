import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';

/** A file of the web app, held in memory with the headers it is served with. */
export interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

/** The web app's files by URL path (`/index.html`, `/assets/index-1a2b.js`); `index` is its page. */
export interface WebFiles {
  files: ReadonlyMap<string, WebFile>;
  index: WebFile;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** Vite names the files under `assets/` by their content: they never change under one name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/**
 * Reads every file of the built web app in `dir` into memory, once: requests are then answered
 * from this map and no request path ever reaches the file system. Undefined when `dir` holds no
 * `index.html` (the app is not built).
 */
export async function loadWebFiles(dir: string): Promise<WebFiles | undefined> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch {
    return undefined;
  }
  const files = new Map<string, WebFile>();
  for (const entry of entries) {
    const path = `/${entry.split(sep).join('/')}`;
    let body: Buffer;
    try {
      body = await readFile(join(dir, entry));
    } catch {
      continue; // a folder, or a file that went away
    }
    files.set(path, webFile(path, body));
  }
  const index = files.get('/index.html');
  return index ? { files, index } : undefined;
}

/** A page held in memory as the web app's `index.html` (the landing page, while the app is not built). */
export function singlePage(html: string): WebFiles {
  const index = webFile('/index.html', Buffer.from(html, 'utf8'));
  return { files: new Map([['/index.html', index]]), index };
}

function webFile(path: string, body: Buffer): WebFile {
  return {
    body,
    type: TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    cacheControl: path.startsWith('/assets/') ? IMMUTABLE : REVALIDATE,
  };
}
