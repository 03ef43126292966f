// The demo's static server (demo/static-server.mjs: `npm run demo`, and the browser tests) answers
// what it cannot serve with the right status instead of a 500 or a file: 400 for a request-target
// that is malformed or not origin-form, 405 (with Allow) for methods other than GET and HEAD, and
// 403 for a Host header that is not loopback (a DNS-rebinding page must not read the files).
// Requests are written byte for byte with node:net, so nothing normalises them on the way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic, type StaticServer } from '../demo/static-server.mjs';

interface Reply { status: number; headers: Record<string, string>; body: string }

let base = '';
let root = '';
let server: StaticServer;

/** Send `head` (the request line and headers, without the blank line) and read the whole reply. */
function raw(head: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error(`no reply to ${JSON.stringify(head)}`)));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const lines = text.slice(0, end < 0 ? text.length : end).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
      const headers = Object.fromEntries(lines.slice(1).map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()];
      }));
      let body = end < 0 ? '' : text.slice(end + 4);
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
      resolve({ status, headers, body });
    });
    socket.write(`${head}\r\nConnection: close\r\n\r\n`);
  });
}

function dechunk(text: string): string {
  let out = '';
  for (let at = 0; ;) {
    const eol = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

const get = (target: string, host = `127.0.0.1:${server.port}`) => raw(`GET ${target} HTTP/1.1\r\nHost: ${host}`);

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'simdnn-static-'));
  root = join(base, 'root');
  await mkdir(join(root, 'sub'), { recursive: true });
  await writeFile(join(base, 'secret.txt'), 'outside the root');
  await writeFile(join(root, 'index.html'), '<!doctype html><title>index</title>');
  await writeFile(join(root, 'sub', 'a b.txt'), 'spaced');
  await writeFile(join(root, 'k.wasm'), Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
  server = await serveStatic({ root, port: 0 });
});

afterAll(async () => {
  await server?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('demo static server', () => {
  it('serves files (GET and HEAD), with the wasm MIME type and percent-decoded paths', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>index</title>');
    const wasm = await get('/k.wasm');
    expect([wasm.status, wasm.headers['content-type']]).toEqual([200, 'application/wasm']);
    expect((await get('/sub/a%20b.txt?v=1')).body).toBe('spaced');
    const head = await raw(`HEAD /index.html HTTP/1.1\r\nHost: 127.0.0.1:${server.port}`);
    expect([head.status, head.body]).toEqual([200, '']);
    expect((await get('/missing.js')).status).toBe(404);
  });

  it('answers 400 to a malformed request-target, not 500', async () => {
    for (const target of ['/%E0%A4%A', '/%', '/%zz', '/a%00b']) {
      const r = await get(target);
      expect(r.status, target).toBe(400);
    }
  });

  it('answers 400 to a request-target that is not origin-form (absolute, authority or asterisk form)', async () => {
    const host = `127.0.0.1:${server.port}`;
    expect((await get(`http://${host}/index.html`)).status).toBe(400);
    expect((await get('http://evil.example/index.html')).status).toBe(400);
    expect((await raw(`OPTIONS * HTTP/1.1\r\nHost: ${host}`)).status).toBe(400);
    // '//x/y' is origin-form with an empty first segment; it names the path //x/y, not a host x.
    expect((await get('//index.html/')).status).toBe(404);
  });

  it('answers 405 with Allow: GET, HEAD to every other method', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
      const r = await raw(`${method} /index.html HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 0`);
      expect([method, r.status, r.headers.allow]).toEqual([method, 405, 'GET, HEAD']);
    }
    const connectReply = await raw(`CONNECT 127.0.0.1:${server.port} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}`);
    expect([connectReply.status, connectReply.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('keeps requests inside the root', async () => {
    for (const target of ['/../secret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt', '/sub/..%2f..%2fsecret.txt', '/..%5csecret.txt']) {
      const r = await get(target);
      expect([target, r.status === 403 || r.status === 404]).toEqual([target, true]);
      expect(r.body).not.toContain('outside the root');
    }
  });

  it('accepts a loopback Host: localhost, 127.0.0.1 and [::1], with or without the port', async () => {
    for (const host of ['localhost', `localhost:${server.port}`, 'LocalHost', '127.0.0.1', `127.0.0.1:${server.port}`, '[::1]', `[::1]:${server.port}`]) {
      expect([host, (await get('/', host)).status]).toEqual([host, 200]);
    }
  });

  it('refuses any other Host (DNS rebinding) with 403, and a missing Host with 400', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, 'localhost.evil.example', '127.0.0.1.nip.io', '10.0.0.1', '[::2]', 'localhost:80@evil.example', '']) {
      const r = await get('/index.html', host);
      expect([host, r.status], r.body).toEqual([host, 403]);
      expect(r.body).not.toContain('<title>index</title>');
    }
    expect((await raw('GET /index.html HTTP/1.1')).status).toBe(400);
  });
});

describe('demo static server, allowedHosts', () => {
  it('also accepts the names it is given (npm run demo with HOST set)', async () => {
    const other = await serveStatic({ root, port: 0, allowedHosts: ['demo.test'] });
    try {
      const ask = (host: string) => new Promise<number>((resolve, reject) => {
        const socket = connect(other.port, '127.0.0.1');
        let text = '';
        socket.on('data', (c) => { text += c.toString('latin1'); });
        socket.on('error', reject);
        socket.on('close', () => resolve(Number(text.slice(9, 12))));
        socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      });
      expect(await ask('demo.test:8080')).toBe(200);
      expect(await ask('localhost')).toBe(200);
      expect(await ask('evil.example')).toBe(403);
    } finally {
      await other.close();
    }
  });
});
