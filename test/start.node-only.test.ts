// `npm start` (src/demo.ts, bundled to dist/demo.js): the tour runs to the end, into a pipe as plain
// text (CI greps it for ESC), and its training section shows a network learning: the loss falls, the
// trained model beats the same training without hidden layers, and the prediction it prints is right.
// src/demo.ts is bundled afresh here against the built library (dist/node.js: needs `npm run build`),
// so the test checks the source, not a stale dist/demo.js. In the node-relaxed project the tour runs
// with V8's relaxed-SIMD flag, so its training runs on the relaxed binary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { SIMD } from './runtime.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIBRARY = join(ROOT, 'dist/node.js');
const FLAGS = SIMD === 'relaxed' ? ['--experimental-wasm-relaxed-simd'] : [];
const SCRIPT = '/usr/bin/script'; // util-linux: runs a command on a pseudo-terminal

let dir = '';
let demo = '';

/** Run the tour with stdout into a pipe (or through `script`, on a terminal); resolves with stdout. */
function run(file: string, args: string[], env: Record<string, string | undefined>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}\n${stdout}`));
      else resolve(stdout);
    });
  });
}

interface EpochLine { epoch: number; of: number; loss: number; accuracy: number }

/** The training section (heading "4. Training …" up to the next heading). */
function trainingSection(out: string): string {
  const from = out.search(/^(\x1b\[1m)?4\. Training/m);
  expect(from, 'the training heading').toBeGreaterThanOrEqual(0);
  const to = out.slice(from).search(/^(\x1b\[1m)?5\. /m);
  return out.slice(from, to < 0 ? undefined : from + to);
}

function epochLines(section: string): EpochLine[] {
  return [...section.matchAll(/^ +epoch +(\d+)\/(\d+) +loss ([\d.]+) +accuracy ([\d.]+)%\r?$/gm)].map((m) => ({
    epoch: Number(m[1]), of: Number(m[2]), loss: Number(m[3]), accuracy: Number(m[4]) / 100,
  }));
}

/** What a terminal shows: each line as the text after its last carriage return (the tour pads
 *  every redraw to the length of what it overwrites), trailing blanks trimmed. */
function visible(out: string): string {
  return out.split('\n').map((l) => l.replace(/\r$/, '').split('\r').pop()!.trimEnd()).join('\n');
}

beforeAll(async () => {
  if (!existsSync(LIBRARY)) throw new Error(`${LIBRARY} is missing: run \`npm run build\` first`);
  dir = await mkdtemp(join(tmpdir(), 'simdnn-start-'));
  demo = join(dir, 'demo.mjs');
  await build({
    entryPoints: [join(ROOT, 'src/demo.ts')], outfile: demo, bundle: true, format: 'esm', platform: 'node', target: 'es2022', logLevel: 'error',
    plugins: [{
      name: 'built-library',
      setup(b) {
        b.onResolve({ filter: /^\.\/node\.js$/ }, () => ({ path: pathToFileURL(LIBRARY).href, external: true }));
      },
    }],
  });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`npm start (${SIMD} project)`, () => {
  it('into a pipe: every section, plain text, and a training run whose loss falls', async () => {
    // No NO_COLOR, and a colour terminal type: the pipe alone must make it plain.
    const out = await run(process.execPath, [...FLAGS, demo], { NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color' });
    expect(out).not.toContain('\x1b');
    expect(out).not.toContain('\r');
    if (SIMD === 'relaxed') expect(out.split('\n')[0]).toContain('relaxed SIMD (FMA) binary');
    expect([...out.matchAll(/^(\d)\. /gm)].map((m) => m[1])).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(out).toMatch(/^memory: 0 live objects, 0 bytes owned/m); // every model the tour made was disposed

    const section = trainingSection(out);
    const epochs = epochLines(section);
    expect(epochs.length).toBeGreaterThanOrEqual(3);
    const total = epochs[0]!.of;
    expect(epochs[0]!.epoch).toBe(1);
    expect(epochs.at(-1)!.epoch).toBe(total);
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]!.epoch).toBeGreaterThan(epochs[i - 1]!.epoch);
    for (const e of epochs) expect(Number.isFinite(e.loss)).toBe(true);
    const first = epochs[0]!;
    const last = epochs.at(-1)!;
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.accuracy).toBeGreaterThan(first.accuracy);

    const untrained = /untrained \(seed \d+\): loss ([\d.]+), accuracy ([\d.]+)%/.exec(section);
    expect(untrained, 'the untrained line').not.toBeNull();
    expect(last.loss).toBeLessThan(Number(untrained![1]));
    // The summary agrees with the epoch lines, and says how long it took.
    const summary = /trained in (\d+) ms \((\d+) steps of batch (\d+)\); loss ([\d.]+) → ([\d.]+)/.exec(section);
    expect(summary, 'the "trained in" line').not.toBeNull();
    expect([Number(summary![4]), Number(summary![5])]).toEqual([first.loss, last.loss]);
    expect(Number(summary![2])).toBeGreaterThanOrEqual(total);

    // On new points the network beats chance and the same training without hidden layers.
    const test = Number(/accuracy on \d+ new points from the same spirals: ([\d.]+)%/.exec(section)?.[1]);
    const linear = Number(/without hidden layers \(one straight cut\): ([\d.]+)%/.exec(section)?.[1]);
    expect(test).toBeGreaterThan(50);
    expect(test).toBeGreaterThan(linear);

    // The map of the plane: both classes predicted somewhere, the training points drawn on it.
    const map = section.split('\n').filter((l) => /^ +\|.*\|$/.test(l));
    expect(map.length).toBeGreaterThan(5);
    const cells = map.join('');
    for (const ch of [':', ' ', 'A', 'B']) expect(cells).toContain(ch);

    // The one-line prediction: probabilities summing to 1 that pick the class it names.
    const pred = /model\.predict\(\[([-\d., ]+)\]\) = \[([\d.]+), ([\d.]+)\]: class ([AB])/.exec(section);
    expect(pred, 'the prediction line').not.toBeNull();
    const [pa, pb] = [Number(pred![2]), Number(pred![3])];
    expect(pa + pb).toBeCloseTo(1, 3);
    expect(pred![4]).toBe(pb > pa ? 'B' : 'A');
    expect(pred![4]).toBe('B'); // the point printed lies on arm B
  });

  it.skipIf(!existsSync(SCRIPT))('on a terminal: bold headings and a progress bar redrawn in place, and no other escape codes', async () => {
    const command = [process.execPath, ...FLAGS, demo].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
    const out = await run(SCRIPT, ['-qec', command, '/dev/null'], { NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color' });
    expect(out).toMatch(/\x1b\[1m4\. Training[^\n]*\x1b\[0m/);
    expect(out.replace(/\x1b\[[01]m/g, '')).not.toContain('\x1b');
    const section = trainingSection(out);
    // A bar: a carriage return that does not end a line, then [####....] and the epoch it shows.
    const bars = [...section.matchAll(/\r {3}\[([#.]+)\] epoch +(\d+)\/(\d+) +loss [\d.]+/g)];
    expect(bars.length).toBeGreaterThan(0);
    const filled = bars.map((m) => m[1]!.split('#').length - 1);
    for (let i = 1; i < filled.length; i++) expect(filled[i]).toBeGreaterThanOrEqual(filled[i - 1]!);
    // What stays on the screen: the kept lines, and no bar (each is blanked before the next line).
    const screen = visible(section);
    expect(screen).not.toMatch(/\[[#.]+\] epoch/);
    const epochs = epochLines(screen);
    expect(epochs.length).toBeGreaterThanOrEqual(3);
    expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss);
  });
});
