// The demo page: loads simdnn once, then mounts the four sections on the same runtime.
import { init, ACTIVATION_NAMES, type Runtime } from '../src/index.js';
import { mountExplorer } from './explorer.js';
import { mountBend } from './bend.js';
import { mountClassifier } from './classifier.js';
import { mountBench } from './bench.js';
import { fmtMs, h } from './plot.js';

function part(name: string): HTMLElement {
  return document.querySelector<HTMLElement>(`[data-part="${name}"]`)!;
}

function fail(where: string, err: unknown): void {
  const e = err as { code?: string; message?: string };
  const box = document.getElementById('fatal')!;
  box.hidden = false;
  box.append(h('p', {}, h('strong', { text: `${where}: ` }), `${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}`));
  console.error(err);
}

async function main(): Promise<void> {
  const status = document.getElementById('status')!;
  const t0 = performance.now();
  let nn: Runtime;
  try {
    nn = await init();
  } catch (err) {
    status.replaceChildren(h('span', { class: 'badge bad', text: 'simdnn could not load' }));
    fail('init()', err);
    return;
  }
  const ms = performance.now() - t0;
  const relaxed = nn.features.binary === 'relaxed';
  status.replaceChildren(
    h('span', { class: 'badge ok', title: 'which binary init() chose' }, relaxed ? 'relaxed SIMD · FMA' : 'SIMD128 baseline'),
    h('span', { class: 'badge', text: `loaded in ${fmtMs(ms)}` }),
    h('span', { class: 'badge', text: `${ACTIVATION_NAMES.length} activations` }),
    h('span', { class: 'badge', text: `${Math.round(nn.memory().heapBytes / 1024)} KiB wasm memory` }),
  );
  document.body.dataset.binary = nn.features.binary;
  const sections: Array<[string, (el: HTMLElement) => void]> = [
    ['activations', (el) => mountExplorer(el, nn)],
    ['bend', (el) => mountBend(el, nn)],
    ['classifier', (el) => mountClassifier(el, nn)],
    ['benchmark', (el) => mountBench(el)],
  ];
  for (const [name, mount] of sections) {
    const el = part(name);
    try {
      mount(el);
      if (name !== 'classifier') el.dataset.ready = 'true'; // the classifier marks itself after its first frame
    } catch (err) {
      el.dataset.ready = 'error';
      fail(name, err);
    }
  }
  document.body.dataset.ready = 'true';
}

void main();
