// A tiny static file server (no dependencies) for the demo and the browser tests: correct MIME
// types (application/wasm above all), no caching, 127.0.0.1 only. Options let tests simulate the
// usual deployment mistakes: a 404 HTML page for .wasm files, an SPA fallback that answers every
// unknown path with index.html, and extra headers such as a Content-Security-Policy.
//
// What it cannot serve gets a status, never a file or a 500: 400 for a request-target that is
// malformed (bad percent-encoding, NUL) or not origin-form ("/path?query"; absolute-form
// "http://host/path", authority-form and "*" are for proxies and OPTIONS), 405 with
// `Allow: GET, HEAD` for any other method, and 403 when the Host header is not a loopback name
// (localhost, 127.0.0.1 or [::1], any port) or one of `allowedHosts`: a page on another site whose
// DNS name is rebound to 127.0.0.1 sends its own name as Host, so it cannot read the files.
// test/demo-server.node-only.test.ts sends these requests byte for byte.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

const NOT_FOUND = '<!doctype html><html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>';

const ALLOW = 'GET, HEAD';
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The host name of a Host header value (lower case, IPv6 in brackets), or null if it is not one. */
export function hostName(value) {
  const m = /^(\[[0-9a-f:.]+\]|[^\s:@/?#[\]]+)(?::(\d*))?$/i.exec(value);
  return m ? m[1].toLowerCase() : null;
}

/** The file path a request-target names (percent-decoded), or null when it is not a valid origin-form target. */
export function targetPath(target) {
  // origin-form = absolute-path [ "?" query ]: it starts with "/"; a fragment is never sent.
  if (!target.startsWith('/') || target.includes('#')) return null;
  const q = target.indexOf('?');
  let path;
  try {
    path = decodeURIComponent(q < 0 ? target : target.slice(0, q));
  } catch {
    return null; // URIError: malformed percent-encoding
  }
  return path.includes('\0') ? null : path;
}

/**
 * Serve `root` on http://host:port/. Resolves to { url, port, close() } once listening.
 * @param {{ root: string, port?: number, host?: string, headers?: Record<string, string>,
 *           wasm?: 'serve' | '404' | 'spa', spaFallback?: boolean, allowedHosts?: string[] }} options
 *   wasm: '404' answers every .wasm request with a 404 HTML page; 'spa' with index.html (200).
 *   allowedHosts: Host names accepted besides the loopback ones (e.g. the address the server is
 *   bound to when it is not loopback).
 */
export function serveStatic(options) {
  const root = resolve(options.root);
  const host = options.host ?? '127.0.0.1';
  const extra = options.headers ?? {};
  const extraHosts = (options.allowedHosts ?? []).map((h) => hostName(h.includes(':') && !h.startsWith('[') ? `[${h}]` : h));
  const allowed = new Set([...LOOPBACK, ...extraHosts.filter((h) => h !== null)]);
  const server = createServer(async (req, res) => {
    const send = (status, type, body, headers = {}) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(status, { 'content-type': type, 'content-length': bytes.length, 'cache-control': 'no-store', ...extra, ...headers });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    };
    try {
      const hostHeader = req.headers.host;
      if (hostHeader === undefined) return send(400, MIME['.txt'], 'bad request: no Host header');
      const name = hostName(hostHeader);
      if (name === null || !allowed.has(name)) {
        return send(403, MIME['.txt'], `forbidden: Host ${JSON.stringify(hostHeader)} is not this server (it answers to ${[...allowed].join(', ')})`);
      }
      const path = targetPath(req.url ?? '');
      if (path === null) return send(400, MIME['.txt'], 'bad request: malformed request-target (expected /path?query)');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(405, MIME['.txt'], `method ${req.method} not allowed`, { allow: ALLOW });
      }
      const isWasm = path.endsWith('.wasm');
      const index = () => readFile(join(root, 'index.html'));
      if (isWasm && options.wasm === '404') return send(404, MIME['.html'], NOT_FOUND);
      if (isWasm && options.wasm === 'spa') return send(200, MIME['.html'], await index());
      let file = normalize(join(root, path));
      if (file !== root && !file.startsWith(root + sep)) return send(403, MIME['.txt'], 'forbidden');
      const info = await stat(file).catch(() => null);
      if (info?.isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file).catch(() => null);
      if (body) return send(200, MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', body);
      if (options.spaFallback) return send(200, MIME['.html'], await index());
      return send(404, MIME['.html'], NOT_FOUND);
    } catch (err) {
      send(500, MIME['.txt'], String(err));
    }
  });
  // CONNECT never reaches the request handler (Node closes the socket when nothing listens).
  server.on('connect', (req, socket) => {
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nAllow: ${ALLOW}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolvePromise({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
        port,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done(undefined)); }),
      });
    });
  });
}
