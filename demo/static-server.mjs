// A tiny static file server (no dependencies) for the demo and the browser tests: correct MIME
// types (application/wasm above all), no caching, 127.0.0.1 only. Options let tests simulate the
// usual deployment mistakes: a 404 HTML page for .wasm files, an SPA fallback that answers every
// unknown path with index.html, and extra headers such as a Content-Security-Policy.
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

/**
 * Serve `root` on http://host:port/. Resolves to { url, port, close() } once listening.
 * @param {{ root: string, port?: number, host?: string, headers?: Record<string, string>,
 *           wasm?: 'serve' | '404' | 'spa', spaFallback?: boolean }} options
 *   wasm: '404' answers every .wasm request with a 404 HTML page; 'spa' with index.html (200).
 */
export function serveStatic(options) {
  const root = resolve(options.root);
  const host = options.host ?? '127.0.0.1';
  const extra = options.headers ?? {};
  const server = createServer(async (req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
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
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolvePromise({
        url: `http://${host}:${port}/`,
        port,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done(undefined)); }),
      });
    });
  });
}
