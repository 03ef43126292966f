// The demo page (demo/, `npm run demo`): build it with Vite, serve it, load it in headless Chromium,
// and check that the four parts render with no console errors. Saves test/artifacts/demo.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright';
import { buildDemo } from '../../demo/build.mjs';
import { serveStatic, type StaticServer } from '../../demo/static-server.mjs';
import { ACTIVATION_NAMES } from '../../src/index.js';
import { HAS_CHROMIUM, LAUNCH_OPTIONS } from './chromium.js';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

let out = '';
let server: StaticServer | undefined;
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];

/** How many distinct colours a canvas holds (sampled): a blank canvas has one. */
function colours(selector: string, index = 0): Promise<number> {
  return page.evaluate(([sel, i]) => {
    const c = document.querySelectorAll<HTMLCanvasElement>(sel as string)[i as number];
    if (!c) return 0;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let p = 0; p < data.length; p += 4 * 7) seen.add((data[p]! << 16) | (data[p + 1]! << 8) | data[p + 2]!);
    return seen.size;
  }, [selector, index] as const);
}

interface Frame { steps: number; seed: number; loss: number; lossText: string; accuracy: number; regions: string }

function seedOf(status: string): number {
  return Number(/\(seed (\d+),/.exec(status)?.[1]);
}

/** Click a data-set button (or pick a hidden activation) in the classifier, then read its status,
 *  loss and accuracy after every animation frame until training is idle again. The classifier's own
 *  frame callback was registered by the click, so each reading comes after its frame's steps. */
async function trainingRun(action: { button: string } | { activation: string }): Promise<Frame[]> {
  const raw = await page.evaluate((a) => new Promise<Array<{ status: string; kpis: string[]; regions: string }>>((resolve, reject) => {
    const root = document.querySelector<HTMLElement>('[data-part="classifier"]')!;
    if ('button' in a) {
      const button = [...root.querySelectorAll('button')].find((b) => b.textContent === a.button);
      if (!button) return reject(new Error(`no button ${a.button}`));
      button.click();
    } else {
      const select = root.querySelector('select')!;
      select.value = a.activation;
      select.dispatchEvent(new Event('change'));
    }
    const board = root.querySelector<HTMLCanvasElement>('.board')!;
    // The board's pixels, sampled, through a copy (reading the page's own canvas every frame would
    // make Chromium warn about readbacks), on the first and the last frame.
    const probe = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
    const regions = () => {
      probe.canvas.width = board.width;
      probe.canvas.height = board.height;
      probe.drawImage(board, 0, 0);
      const data = probe.getImageData(0, 0, board.width, board.height).data;
      let text = '';
      for (let p = 0; p < data.length; p += 4 * 997) text += data[p]!.toString(16);
      return text;
    };
    const frames: Array<{ status: string; kpis: string[]; regions: string }> = [];
    const read = () => {
      const status = root.querySelector('.status-line')!.textContent!;
      const idle = /idle$/.test(status);
      frames.push({ status, kpis: [...root.querySelectorAll('.kpi-value')].map((k) => k.textContent!), regions: frames.length === 0 || idle ? regions() : '' });
      if (idle) resolve(frames);
      else if (frames.length > 10_000) reject(new Error(`still training after 10000 frames: ${frames.at(-1)!.status}`));
      else requestAnimationFrame(read);
    };
    requestAnimationFrame(read);
  }), action);
  return raw.map((f) => ({
    steps: Number(/(\d+) training steps/.exec(f.status)?.[1]),
    seed: seedOf(f.status),
    loss: Number(f.kpis[2]),
    lossText: f.kpis[2]!,
    accuracy: Number(f.kpis[3]!.replace('%', '')) / 100,
    regions: f.regions,
  }));
}

describe.skipIf(!HAS_CHROMIUM)('demo page', () => {
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'simdnn-demo-'));
    await buildDemo({ outDir: out, logLevel: 'error' });
    server = await serveStatic({ root: out });
    browser = await chromium.launch(LAUNCH_OPTIONS);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
    await page.goto(`${server.url}?bench=quick`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('loads simdnn (relaxed SIMD in Chromium) with no console errors', async () => {
    expect(await page.getAttribute('body', 'data-binary')).toBe('relaxed');
    expect(await page.textContent('#status')).toContain('relaxed SIMD');
    expect(await page.isHidden('#fatal')).toBe(true);
    expect(problems).toEqual([]);
  });

  it('1 · the activation explorer plots every activation, with parameters on sliders', async () => {
    const part = page.locator('[data-part="activations"]');
    await expect.poll(() => part.getAttribute('data-ready')).toBe('true');
    expect(await page.locator('.thumb').count()).toBe(ACTIVATION_NAMES.length);
    expect(await colours('.explorer-plot canvas')).toBeGreaterThan(20);
    for (let i = 0; i < ACTIVATION_NAMES.length; i++) expect(await colours('.thumb-canvas', i)).toBeGreaterThan(3);
    await page.selectOption('.explorer-side select', 'leakyRelu');
    await page.locator('.controls input[type="range"]').fill('0.3');
    expect(await page.textContent('.explorer-side pre')).toBe("nn.activate('leakyRelu', x, { alpha: 0.3 })");
    await page.click('.thumb[data-name="gelu"]');
    await page.click('.segmented button:nth-child(2)');
    expect(await page.textContent('.explorer-side pre')).toBe("nn.activate('gelu', x, { approximate: 'tanh' })");
  });

  it('2 · transform and bend draws both rows, layer by layer', async () => {
    expect(await page.locator('.bend-linear .panel-canvas').count()).toBe(4);
    expect(await page.locator('.bend-bent .panel-canvas').count()).toBe(4);
    for (let i = 0; i < 8; i++) expect(await colours('.panel-canvas', i)).toBeGreaterThan(10);
    expect(await page.textContent('.bend-bent .row-title')).toBe('With ReLU');
  });

  it('3 · the live classifier paints decision regions and takes clicks', async () => {
    const part = page.locator('[data-part="classifier"]');
    await expect.poll(() => part.getAttribute('data-ready')).toBe('true');
    expect(await colours('.board')).toBeGreaterThan(50);
    await expect.poll(() => page.textContent('.status-line'), { timeout: 30_000 }).toMatch(/idle$/);
    const before = await page.textContent('.status-line');
    await page.locator('.board').scrollIntoViewIfNeeded();
    const box = (await page.locator('.board').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.1, box.y + box.height * 0.1);
    await expect.poll(() => page.textContent('.status-line')).not.toBe(before);
    await expect.poll(() => page.textContent('.kpi-value'), { timeout: 10_000 }).toMatch(/s$/);
    expect(await page.textContent('details pre')).toContain('Sequential: 2 inputs → 2 outputs');
  });

  it('3 · the classifier trains with simdnn: a new model per data set or activation, its loss falls, old models are disposed', async () => {
    await page.locator('#classifier').scrollIntoViewIfNeeded();
    await expect.poll(() => page.textContent('.status-line'), { timeout: 30_000 }).toMatch(/idle$/);
    const live = async () => Number(/nn\.memory\(\): (\d+) live objects/.exec((await page.textContent('details pre')) ?? '')?.[1]);
    const objects = await live();
    expect(objects).toBeGreaterThan(0);
    const seeds = new Set([seedOf((await page.textContent('.status-line'))!)]);
    for (const action of [{ button: 'spiral' }, { activation: 'leakyRelu' }, { activation: 'tanh' }, { button: '↻ re-initialise' }]) {
      const run = await trainingRun(action);
      const what = JSON.stringify(action);
      const [first, last] = [run[0]!, run.at(-1)!];
      // Training restarts from step 0 with a new seed, and runs in frames until it is idle.
      expect(first.steps, what).toBeGreaterThan(0);
      expect(first.steps, what).toBeLessThan(last.steps);
      for (let i = 1; i < run.length; i++) expect(run[i]!.steps, what).toBeGreaterThanOrEqual(run[i - 1]!.steps);
      expect(run.length, what).toBeGreaterThan(2);
      seeds.add(first.seed);
      expect(last.seed, what).toBe(first.seed);
      // The loss of the model's weights falls, its accuracy beats chance, and the regions it paints change.
      for (const r of run) expect(Number.isFinite(r.loss), `${what}: ${r.lossText}`).toBe(true);
      expect(last.loss, what).toBeLessThan(first.loss);
      expect(last.accuracy, what).toBeGreaterThanOrEqual(first.accuracy);
      expect(last.accuracy, what).toBeGreaterThan(0.5);
      expect(last.regions, what).not.toBe(first.regions);
      if ('activation' in action) expect(await page.textContent('details pre'), what).toMatch(new RegExp(`dense_0 +dense +\\[batch, 16\\] +${action.activation}`));
      // The replaced model was disposed: as many live simdnn objects as before.
      expect(await live(), what).toBe(objects);
    }
    expect(seeds.size).toBe(5);
  }, 120_000);

  it('3 · clear empties the board and stops training; a click starts it again', async () => {
    await page.getByRole('button', { name: 'clear' }).click();
    await expect.poll(() => page.textContent('.status-line')).toMatch(/^0 A · 0 B points .* idle$/);
    expect(await page.locator('.classifier .kpi-value').nth(2).textContent()).toBe('–');
    const box = (await page.locator('.board').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.7, { button: 'right' }); // the other class
    await expect.poll(() => page.textContent('.status-line'), { timeout: 30_000 }).toMatch(/^1 A · 1 B points .* idle$/);
    expect(await page.locator('.classifier .kpi-value').nth(3).textContent()).toBe('100%');
  });

  it('4 · the benchmark runs in a worker and charts simdnn against plain JS', async () => {
    await page.locator('#benchmark').scrollIntoViewIfNeeded();
    const part = page.locator('[data-part="benchmark"]');
    await expect.poll(() => part.getAttribute('data-state'), { timeout: 90_000, interval: 500 }).toBe('done');
    expect(await page.locator('.bench-bar').count()).toBe(4 * 3);
    expect(await page.textContent('.headline')).toMatch(/\d+(\.\d)?× faster/);
  }, 120_000);

  it('saves a screenshot with no console errors along the way', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
