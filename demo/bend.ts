// 2 · Transform and bend: a grid of 2-D points pushed through small dense layers, one panel per layer.
// Without activations the layers compose into one affine map (straight lines stay straight, parallel
// lines stay parallel); with ReLU each layer folds the plane along its neurons' zero lines.
import type { Runtime, Sequential } from '../src/index.js';
import { COLORS, View, fitCanvas, h, onWidth, polyline, rng } from './plot.js';

interface Line { from: number; to: number; color: string; width: number }

const ACTS = [
  { name: 'relu', label: 'ReLU', spec: 'relu' },
  { name: 'leakyRelu', label: 'leaky ReLU (α = 0.2)', spec: { name: 'leakyRelu', alpha: 0.2 } },
  { name: 'tanh', label: 'tanh', spec: 'tanh' },
  { name: 'gelu', label: 'GELU', spec: 'gelu' },
  { name: 'elu', label: 'ELU', spec: 'elu' },
] as const;

/** Grid lines and a circle in [−1, 1]², as one batch of points plus the polylines through them. */
function makePoints(): { xy: Float32Array; lines: Line[] } {
  const pts: number[] = [];
  const lines: Line[] = [];
  const N = 11, S = 72;
  for (let dir = 0; dir < 2; dir++) {
    for (let i = 0; i < N; i++) {
      const c = -1 + (2 * i) / (N - 1);
      const from = pts.length / 2;
      for (let j = 0; j < S; j++) {
        const t = -1 + (2 * j) / (S - 1);
        if (dir === 0) pts.push(t, c);
        else pts.push(c, t);
      }
      const edge = i === 0 || i === N - 1;
      lines.push({ from, to: pts.length / 2, color: dir === 0 ? COLORS.sky : COLORS.violet, width: edge ? 2 : 1.1 });
    }
  }
  const from = pts.length / 2;
  for (let j = 0; j <= 160; j++) {
    const a = (2 * Math.PI * j) / 160;
    pts.push(0.62 * Math.cos(a), 0.62 * Math.sin(a));
  }
  lines.push({ from, to: pts.length / 2, color: COLORS.amber, width: 2.4 });
  return { xy: Float32Array.from(pts), lines };
}

type Layer = { w: number[]; b: number[] };

/** Random 2×2 layers: each W is rotation · scale · rotation (well conditioned), and each bias puts
 *  the neurons' zero lines near the middle of the cloud that reaches the layer, so that ReLU folds
 *  it instead of erasing it. Draws again (a few times) when a ReLU layer would flatten the cloud. */
const weightCache = new Map<string, Layer[]>();
function makeWeights(seed: number, layers: number, xy: Float32Array): Layer[] {
  const key = `${seed}/${layers}`;
  const cached = weightCache.get(key);
  if (cached) return cached;
  let best: Layer[] = [];
  let bestScore = -1;
  for (let attempt = 0; attempt < 40; attempt++) {
    const r = rng(seed * 7919 + attempt);
    let hx = Float64Array.from({ length: xy.length / 2 }, (_, i) => xy[2 * i]!);
    let hy = Float64Array.from({ length: xy.length / 2 }, (_, i) => xy[2 * i + 1]!);
    const out: Layer[] = [];
    let score = 1;
    for (let l = 0; l < layers; l++) {
      const a = r() * 2 * Math.PI, b = r() * 2 * Math.PI;
      const s1 = (0.8 + r() * 0.7) * (r() < 0.5 ? -1 : 1), s2 = 0.8 + r() * 0.7;
      const [p, q, u, v] = [Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a)];
      const [e, f, g, k] = [Math.cos(b), -Math.sin(b), Math.sin(b), Math.cos(b)];
      const w = [p * s1 * e + q * s2 * g, p * s1 * f + q * s2 * k, u * s1 * e + v * s2 * g, u * s1 * f + v * s2 * k];
      const zx = hx.map((x, i) => w[0]! * x + w[1]! * hy[i]!);
      const zy = hx.map((x, i) => w[2]! * x + w[3]! * hy[i]!);
      const centre = (z: Float64Array) => {
        const m = z.reduce((s0, t) => s0 + t, 0) / z.length;
        const sd = Math.sqrt(z.reduce((s0, t) => s0 + (t - m) ** 2, 0) / z.length) || 1;
        return -m + (r() - 0.5) * 0.4 * sd;
      };
      const bias = [centre(zx), centre(zy)];
      out.push({ w, b: bias });
      hx = zx.map((t) => Math.max(0, t + bias[0]!));
      hy = zy.map((t) => Math.max(0, t + bias[1]!));
      let inside = 0, origin = 0;
      for (let i = 0; i < hx.length; i++) {
        if (hx[i]! > 0 && hy[i]! > 0) inside++;
        else if (hx[i] === 0 && hy[i] === 0) origin++;
      }
      score = Math.min(score, inside / hx.length, 1 - origin / hx.length);
    }
    if (score > bestScore) { best = out; bestScore = score; }
    if (score >= 0.2) break;
  }
  weightCache.set(key, best);
  return best;
}

/** 2×2 row-major product A·B. */
function mul(A: number[], B: number[]): number[] {
  return [A[0]! * B[0]! + A[1]! * B[2]!, A[0]! * B[1]! + A[1]! * B[3]!, A[2]! * B[0]! + A[3]! * B[2]!, A[2]! * B[1]! + A[3]! * B[3]!];
}

export function mountBend(root: HTMLElement, nn: Runtime): void {
  const { xy, lines } = makePoints();
  const count = xy.length / 2;
  let seed = 7;
  let depth = 3;
  let act: (typeof ACTS)[number] = ACTS[0];

  const select = h('select', { 'aria-label': 'activation of the bent row' });
  for (const a of ACTS) select.append(h('option', { value: a.name, text: a.label }));
  const depthInput = h('input', { type: 'range', min: 1, max: 4, step: 1, value: depth, 'aria-label': 'layers' });
  const depthOut = h('output', { class: 'val', text: String(depth) });
  const shuffle = h('button', { class: 'btn', type: 'button' }, '↻ New weights');
  const controls = h('div', { class: 'toolbar' },
    h('label', { class: 'field inline' }, h('span', { class: 'field-label', text: 'Bend with' }), select),
    h('label', { class: 'field inline slider' }, h('span', { class: 'field-label' }, 'Layers ', depthOut), depthInput),
    shuffle,
  );
  const rows = [
    { key: 'linear', title: 'No activation', note: h('p', { class: 'row-note' }) },
    { key: 'bent', title: 'With ReLU', note: h('p', { class: 'row-note' }) },
  ].map((r) => {
    const panels = h('div', { class: 'panels' });
    const head = h('div', { class: 'row-head' }, h('h3', { class: 'row-title', text: r.title }), r.note);
    const el = h('div', { class: `bend-row bend-${r.key}` }, head, panels);
    return { ...r, el, head, panels };
  });
  root.append(controls, ...rows.map((r) => r.el));

  function layerModels(activation: string | object, weights: Layer[]): Sequential[] {
    return weights.map(({ w, b }) => nn.dense({ inputs: 2, units: 2, weights: w, bias: b, activation: activation as never }));
  }

  function drawRow(row: (typeof rows)[number], activation: string | object, label: string): void {
    const weights = makeWeights(seed, depth, xy);
    const models = layerModels(activation, weights);
    const stages = [xy];
    try {
      for (const m of models) stages.push(m.predict(stages[stages.length - 1]!, count));
    } finally {
      models.forEach((m) => m.dispose());
    }
    row.panels.replaceChildren();
    const width = row.panels.clientWidth;
    const cols = width < 520 ? 2 : stages.length;
    const gap = 12;
    const size = Math.floor((width - gap * (cols - 1)) / cols);
    stages.forEach((pts, s) => {
      const canvas = h('canvas', { class: 'panel-canvas', role: 'img', 'aria-label': s === 0 ? 'input grid' : `after layer ${s}` });
      const caption = h('div', { class: 'panel-caption' },
        h('span', { class: 'panel-step', text: s === 0 ? 'input' : `layer ${s}` }),
        h('span', { class: 'muted', text: s === 0 ? '(x, y) ∈ [−1, 1]²' : label === 'linear' ? `W${sub(s)}·h + b${sub(s)}` : `${label}(W${sub(s)}·h + b${sub(s)})` }),
      );
      row.panels.append(h('figure', { class: 'panel', style: `width:${size}px` }, canvas, caption));
      const ctx = fitCanvas(canvas, size, size);
      const xs = Float32Array.from({ length: count }, (_, i) => pts[2 * i]!);
      const ys = Float32Array.from({ length: count }, (_, i) => pts[2 * i + 1]!);
      const v = View.equal(xs, ys, size, size, 12);
      ctx.fillStyle = COLORS.bg;
      ctx.fillRect(0, 0, size, size);
      ctx.strokeStyle = 'rgba(148,163,199,0.28)';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(v.px(0), 0); ctx.lineTo(v.px(0), size);
      ctx.moveTo(0, v.py(0)); ctx.lineTo(size, v.py(0));
      ctx.stroke();
      ctx.lineJoin = 'round';
      for (const l of lines) {
        ctx.strokeStyle = l.color;
        ctx.globalAlpha = l.color === COLORS.amber ? 1 : 0.82;
        ctx.lineWidth = l.width;
        polyline(ctx, v, xs, ys, l.from, l.to);
      }
      ctx.globalAlpha = 1;
    });
  }

  function draw(): void {
    const weights = makeWeights(seed, depth, xy);
    let M = [1, 0, 0, 1];
    for (const { w } of weights) M = mul(w, M);
    rows[0]!.note.replaceChildren(
      'Layers compose into one affine map: straight lines stay straight and parallel ones stay parallel. Here ',
      h('code', { text: `W${depth > 1 ? sub(depth) + '⋯' : ''}W₁ = [[${M.slice(0, 2).map(f2).join(', ')}], [${M.slice(2).map(f2).join(', ')}]]` }),
      '.',
    );
    rows[1]!.el.querySelector('.row-title')!.textContent = `With ${act.label}`;
    rows[1]!.note.textContent = act.name === 'relu' || act.name === 'leakyRelu'
      ? 'Each neuron zeroes (or shrinks) one side of its line: the plane folds, lines bend at the creases. Depth multiplies the folds.'
      : 'A smooth nonlinearity curves and squashes the plane: straight lines bend, so the next layer can separate what a line could not.';
    drawRow(rows[0]!, 'linear', 'linear');
    drawRow(rows[1]!, act.spec, act.name);
  }

  select.addEventListener('change', () => { act = ACTS.find((a) => a.name === select.value) ?? ACTS[0]; draw(); });
  depthInput.addEventListener('input', () => { depth = Number(depthInput.value); depthOut.textContent = String(depth); draw(); });
  shuffle.addEventListener('click', () => { seed = (seed * 48271 + 11) % 2147483647; draw(); });
  onWidth(root, () => draw());
}

const SUB = '₀₁₂₃₄₅₆₇₈₉';
function sub(n: number): string {
  return String(n).split('').map((d) => SUB[Number(d)]).join('');
}
function f2(v: number): string {
  return v.toFixed(2);
}
