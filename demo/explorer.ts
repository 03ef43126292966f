// 1 · Activation explorer: every activation simdnn ships, computed by its SIMD kernels, with its
// parameters on sliders and its derivative beside it.
import { ACTIVATION_NAMES, type ActivationName, type ActivationParams, type Runtime } from '../src/index.js';
import { COLORS, View, drawAxes, fitCanvas, h, onWidth, polyline } from './plot.js';

interface Slider { key: 'alpha' | 'beta' | 'gamma' | 'min' | 'max' | 'slope'; label: string; min: number; max: number; step: number; value: number }

/** What each activation computes, and the parameters it takes (with ONNX's defaults where visible). */
const INFO: Record<ActivationName, { formula: string; family: string; sliders?: Slider[]; approximate?: boolean }> = {
  linear: { formula: 'x', family: 'identity' },
  step: { formula: 'Heaviside step: 0 below zero, 1 above', family: 'threshold' },
  relu: { formula: 'max(0, x)', family: 'ReLU family' },
  relu6: { formula: 'min(max(0, x), 6)', family: 'ReLU family' },
  leakyRelu: { formula: 'x if x ≥ 0, else α·x', family: 'ReLU family', sliders: [{ key: 'alpha', label: 'α', min: 0, max: 1, step: 0.01, value: 0.1 }] },
  prelu: { formula: 'x if x ≥ 0, else slope·x (one learned slope per channel)', family: 'ReLU family', sliders: [{ key: 'slope', label: 'slope', min: -1, max: 1, step: 0.01, value: 0.25 }] },
  elu: { formula: 'x if x > 0, else α·(eˣ − 1)', family: 'exponential', sliders: [{ key: 'alpha', label: 'α', min: 0, max: 3, step: 0.01, value: 1 }] },
  selu: {
    formula: 'γ·(x if x > 0, else α·(eˣ − 1)) — self-normalising',
    family: 'exponential',
    sliders: [
      { key: 'alpha', label: 'α', min: 0, max: 3, step: 0.001, value: 1.6733 },
      { key: 'gamma', label: 'γ', min: 0, max: 3, step: 0.001, value: 1.0507 },
    ],
  },
  celu: { formula: 'max(0, x) + min(0, α·(e^(x/α) − 1))', family: 'exponential', sliders: [{ key: 'alpha', label: 'α', min: 0.1, max: 3, step: 0.01, value: 1 }] },
  gelu: { formula: 'x·Φ(x), Φ the normal CDF', family: 'smooth gates', approximate: true },
  silu: { formula: 'x·σ(x) (swish)', family: 'smooth gates' },
  mish: { formula: 'x·tanh(softplus(x))', family: 'smooth gates' },
  sigmoid: { formula: 'σ(x) = 1 / (1 + e⁻ˣ)', family: 'squashing' },
  hardSigmoid: {
    formula: 'max(0, min(1, α·x + β))',
    family: 'squashing',
    sliders: [
      { key: 'alpha', label: 'α', min: 0, max: 1, step: 0.01, value: 0.2 },
      { key: 'beta', label: 'β', min: 0, max: 1, step: 0.01, value: 0.5 },
    ],
  },
  hardSwish: { formula: 'x·max(0, min(1, x/6 + ½))', family: 'smooth gates' },
  tanh: { formula: 'tanh(x)', family: 'squashing' },
  softplus: { formula: 'ln(1 + eˣ) — a smooth ReLU', family: 'ReLU family' },
  softsign: { formula: 'x / (1 + |x|)', family: 'squashing' },
  thresholdedRelu: { formula: 'x if x > α, else 0', family: 'threshold', sliders: [{ key: 'alpha', label: 'α', min: -2, max: 4, step: 0.05, value: 1 }] },
  clip: {
    formula: 'min(max(x, min), max) — hardtanh',
    family: 'threshold',
    sliders: [
      { key: 'min', label: 'min', min: -5, max: 5, step: 0.05, value: -1 },
      { key: 'max', label: 'max', min: -5, max: 5, step: 0.05, value: 1 },
    ],
  },
  exp: { formula: 'eˣ', family: 'other' },
  erf: { formula: '(2/√π)·∫₀ˣ e^(−t²) dt', family: 'squashing' },
  sign: { formula: '−1, 0 or +1', family: 'threshold' },
  softmax: { formula: 'e^(xᵢ) / Σⱼ e^(xⱼ), per row — plotted: softmax([x, 0])₀, which is σ(x)', family: 'row-wise' },
  logSoftmax: { formula: 'xᵢ − ln Σⱼ e^(xⱼ), per row — plotted: logSoftmax([x, 0])₀', family: 'row-wise' },
};

const SAMPLES = 601;

/** Mount the explorer in `root`. */
export function mountExplorer(root: HTMLElement, nn: Runtime): void {
  const names = ACTIVATION_NAMES.filter((n) => n in INFO);
  const params = new Map<ActivationName, ActivationParams>();
  for (const name of names) {
    const p: Record<string, unknown> = {};
    for (const s of INFO[name].sliders ?? []) p[s.key] = s.value;
    if (INFO[name].approximate) p.approximate = 'none';
    params.set(name, p as ActivationParams);
  }
  let selected: ActivationName = 'gelu';
  let range = 5;

  /** f(x) on the sampled xs, by simdnn. */
  function compute(name: ActivationName, xs: Float32Array): Float32Array {
    if (name === 'softmax' || name === 'logSoftmax') {
      const pairs = new Float32Array(xs.length * 2);
      xs.forEach((x, i) => { pairs[2 * i] = x; });
      const out = name === 'softmax' ? nn.softmax(pairs, 2) : nn.logSoftmax(pairs, 2);
      return Float32Array.from({ length: xs.length }, (_, i) => out[2 * i]!);
    }
    return nn.activate(name, xs, params.get(name));
  }

  const samples = (r: number) => Float32Array.from({ length: SAMPLES }, (_, i) => -r + (2 * r * i) / (SAMPLES - 1));

  // ----- layout
  const title = h('h3', { class: 'plot-title' });
  const formula = h('p', { class: 'formula' });
  const canvas = h('canvas', { class: 'plot', 'aria-label': 'activation plot', role: 'img' });
  const legend = h('div', { class: 'legend' },
    h('span', { class: 'key key-f' }, 'f(x)'),
    h('span', { class: 'key key-d' }, 'f′(x)'),
    h('span', { class: 'key key-id' }, 'y = x'),
  );
  const plotBox = h('div', { class: 'explorer-plot' }, h('div', { class: 'plot-head' }, title, formula), canvas, legend);

  const select = h('select', { 'aria-label': 'activation' });
  for (const family of [...new Set(names.map((n) => INFO[n].family))]) {
    const group = h('optgroup', { label: family });
    for (const n of names.filter((m) => INFO[m].family === family)) group.append(h('option', { value: n, text: n }));
    select.append(group);
  }
  const controls = h('div', { class: 'controls' });
  const rangeInput = h('input', { type: 'range', min: 1, max: 12, step: 0.5, value: range, 'aria-label': 'x range' });
  const rangeOut = h('output', { class: 'val' });
  const code = h('pre', { class: 'code' });
  const side = h('div', { class: 'explorer-side' },
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: 'Activation' }), select),
    controls,
    h('label', { class: 'field slider' }, h('span', { class: 'field-label' }, 'x range ±', rangeOut), rangeInput),
    h('div', { class: 'field-label', text: 'The call' }),
    code,
  );
  const thumbs = h('div', { class: 'thumbs', role: 'list' });
  root.append(h('div', { class: 'explorer' }, plotBox, side), thumbs);

  const thumbCanvases = new Map<ActivationName, HTMLCanvasElement>();
  for (const n of names) {
    const c = h('canvas', { class: 'thumb-canvas' });
    const b = h('button', { class: 'thumb', role: 'listitem', 'data-name': n, title: INFO[n].formula }, c, h('span', { text: n }));
    b.addEventListener('click', () => choose(n, true));
    thumbCanvases.set(n, c);
    thumbs.append(b);
  }

  // ----- controls for the selected activation
  function buildControls(): void {
    controls.replaceChildren();
    const info = INFO[selected];
    const p = params.get(selected) as Record<string, unknown>;
    for (const s of info.sliders ?? []) {
      const input = h('input', { type: 'range', min: s.min, max: s.max, step: s.step, value: String(p[s.key]), 'aria-label': s.label });
      const out = h('output', { class: 'val', text: Number(p[s.key]).toFixed(2) });
      input.addEventListener('input', () => {
        let v = Number(input.value);
        // clip: keep min ≤ max by pushing the other bound
        if (selected === 'clip' && s.key === 'min' && v > Number(p.max)) p.max = v;
        if (selected === 'clip' && s.key === 'max' && v < Number(p.min)) p.min = v;
        p[s.key] = v;
        out.textContent = v.toFixed(2);
        if (selected === 'clip') buildControlsSoon();
        redraw();
      });
      controls.append(h('label', { class: 'field slider' }, h('span', { class: 'field-label' }, s.label, out), input));
    }
    if (info.approximate) {
      const seg = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'approximate' });
      for (const mode of ['none', 'tanh'] as const) {
        const b = h('button', { class: p.approximate === mode ? 'on' : '', 'aria-pressed': String(p.approximate === mode), text: mode === 'none' ? 'exact (erf)' : 'tanh approx.' });
        b.addEventListener('click', () => { p.approximate = mode; buildControls(); redraw(); });
        seg.append(b);
      }
      controls.append(h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'approximate' }), seg));
    }
    if (!info.sliders && !info.approximate) {
      controls.append(h('p', { class: 'muted small', text: 'No parameters: this activation is fixed.' }));
    }
  }
  let pending = 0;
  function buildControlsSoon(): void {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      // re-sync the clip sliders without losing the one being dragged
      const p = params.get('clip') as Record<string, number>;
      controls.querySelectorAll('input').forEach((input, i) => {
        const key = i === 0 ? 'min' : 'max';
        if (document.activeElement !== input) input.value = String(p[key]);
        const out = input.parentElement?.querySelector('output');
        if (out) out.textContent = p[key]!.toFixed(2);
      });
    });
  }

  function callText(): string {
    const p = params.get(selected) as Record<string, unknown>;
    const entries = Object.entries(p).map(([k, v]) => `${k}: ${typeof v === 'string' ? `'${v}'` : +Number(v).toFixed(3)}`);
    if (selected === 'softmax' || selected === 'logSoftmax') return `nn.${selected}(x, cols)   // per row of cols`;
    return `nn.activate('${selected}', x${entries.length ? `, { ${entries.join(', ')} }` : ''})`;
  }

  // ----- drawing
  let mainWidth = 600;
  function drawMain(): void {
    const width = mainWidth;
    const height = Math.round(Math.min(380, Math.max(240, width * 0.58)));
    const ctx = fitCanvas(canvas, width, height);
    const xs = samples(range);
    const ys = compute(selected, xs);
    const step = (2 * range) / (SAMPLES - 1);
    const ds = Float32Array.from(ys, (_, i) => {
      const a = ys[Math.max(0, i - 1)]!, b = ys[Math.min(ys.length - 1, i + 1)]!;
      const d = (b - a) / ((Math.min(ys.length - 1, i + 1) - Math.max(0, i - 1)) * step);
      return Math.abs(d) > 50 ? NaN : d; // a jump (step, sign): no finite derivative there
    });
    let lo = -1, hi = 1;
    for (const y of ys) if (Number.isFinite(y)) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    lo = Math.max(lo, -range * 1.2);
    hi = Math.min(hi, range * 1.6);
    const pad = (hi - lo) * 0.12;
    const v = new View(-range, range, lo - pad, hi + pad, width, height);
    ctx.fillStyle = COLORS.bg;
    ctx.fillRect(0, 0, width, height);
    drawAxes(ctx, v, true, Math.max(4, Math.round(width / 90)));
    ctx.lineJoin = 'round';
    ctx.lineWidth = 1;
    ctx.setLineDash([2, 4]);
    ctx.strokeStyle = 'rgba(148,163,199,0.35)';
    polyline(ctx, v, xs, xs);
    ctx.setLineDash([6, 5]);
    ctx.lineWidth = 1.75;
    ctx.strokeStyle = COLORS.violet;
    polyline(ctx, v, xs, ds);
    ctx.setLineDash([]);
    ctx.lineWidth = 3;
    ctx.strokeStyle = COLORS.teal;
    ctx.shadowColor = 'rgba(94, 234, 212, 0.45)';
    ctx.shadowBlur = 10;
    polyline(ctx, v, xs, ys);
    ctx.shadowBlur = 0;
  }

  function drawThumb(name: ActivationName): void {
    const c = thumbCanvases.get(name)!;
    const width = Math.max(60, Math.floor(c.parentElement!.clientWidth - 2));
    const height = Math.round(width * 0.6);
    const ctx = fitCanvas(c, width, height);
    const xs = samples(4);
    const ys = compute(name, xs);
    let lo = -1, hi = 1;
    for (const y of ys) if (Number.isFinite(y)) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    lo = Math.max(lo, -5);
    hi = Math.min(hi, 6);
    const pad = (hi - lo) * 0.14;
    const v = new View(-4, 4, lo - pad, hi + pad, width, height, 6);
    ctx.clearRect(0, 0, width, height);
    drawAxes(ctx, v, false, 4);
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.strokeStyle = name === selected ? COLORS.teal : '#c7d2fe';
    polyline(ctx, v, xs, ys);
  }

  function redraw(): void {
    title.textContent = selected;
    const p = params.get(selected) as Record<string, unknown>;
    formula.textContent = selected === 'gelu' && p.approximate === 'tanh'
      ? '½x·(1 + tanh(√(2/π)·(x + 0.044715x³)))'
      : INFO[selected].formula;
    rangeOut.textContent = range.toFixed(1);
    code.textContent = callText();
    drawMain();
    drawThumb(selected);
  }

  function choose(name: ActivationName, scroll = false): void {
    const previous = selected;
    selected = name;
    select.value = name;
    thumbs.querySelectorAll('.thumb').forEach((t) => t.classList.toggle('on', t.getAttribute('data-name') === name));
    buildControls();
    redraw();
    drawThumb(previous);
    if (scroll && plotBox.getBoundingClientRect().top < 0) plotBox.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  select.addEventListener('change', () => choose(select.value as ActivationName));
  rangeInput.addEventListener('input', () => { range = Number(rangeInput.value); redraw(); });
  onWidth(plotBox, (w) => { mainWidth = w; drawMain(); });
  onWidth(thumbs, (w) => {
    // As many columns as fit (≥ 100 px each), or one or two fewer if that leaves a fuller last row.
    const fit = Math.max(3, Math.floor((w + 10) / 110));
    let cols = fit;
    for (let c = fit; c >= Math.max(2, fit - 2); c--) {
      const empty = (c - (names.length % c)) % c;
      if (empty < (cols - (names.length % cols)) % cols) cols = c;
    }
    thumbs.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
    names.forEach(drawThumb);
  });
  choose(selected);
}
