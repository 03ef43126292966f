// 4 · In-browser benchmark: simdnn's two binaries against plain JS, measured in a Web Worker and
// drawn as a bar chart of speed relative to plain JS.
import type { BenchMessage, BenchRow } from './bench.worker.js';
import { fmtMs, h, onWidth } from './plot.js';

const SVG = 'http://www.w3.org/2000/svg';
const SERIES = [
  { key: 'js', label: 'plain JS', color: '#64748b' },
  { key: 'baseline', label: 'simdnn · SIMD128', color: '#a78bfa' },
  { key: 'relaxed', label: 'simdnn · relaxed SIMD (FMA)', color: '#5eead4' },
] as const;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export function mountBench(root: HTMLElement): void {
  const button = h('button', { class: 'btn primary', type: 'button', text: 'Run benchmark' });
  const status = h('span', { class: 'muted small bench-status', text: 'Runs in a Web Worker: the page stays responsive.' });
  const bar = h('div', { class: 'progress' }, h('div', { class: 'progress-fill' }));
  const legend = h('div', { class: 'legend' },
    ...SERIES.map((s) => h('span', { class: 'key', style: `--c:${s.color}` }, s.label)),
    h('span', { class: 'legend-note', text: 'bar: speed relative to plain JS (longer is faster) · label: time per call' }),
  );
  const chart = h('div', { class: 'chart', role: 'img', 'aria-label': 'benchmark chart' });
  const headline = h('p', { class: 'headline' });
  root.append(h('div', { class: 'toolbar' }, button, status), bar, legend, chart, headline);

  let rows: BenchRow[] = [];
  let width = 600;
  let worker: Worker | undefined;

  function draw(): void {
    chart.replaceChildren();
    if (!rows.length) {
      chart.append(h('div', { class: 'chart-empty muted', text: 'Results appear here: time per call and speed relative to plain JS (longer is faster).' }));
      return;
    }
    const labelW = width < 560 ? 0 : 200;
    const barH = 18, gap = 6, groupGap = 22;
    const series = SERIES.filter((s) => rows.some((r) => r[s.key] !== undefined));
    const groupH = series.length * (barH + gap) - gap;
    const top = width < 560 ? 24 : 0;
    const height = rows.length * (groupH + groupGap + top) - groupGap + 4;
    const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'bench-svg' });
    const right = 150;
    const plotW = Math.max(80, width - labelW - right);
    // speed relative to JS, shared scale across all groups (log-free: the fastest bar fills the width)
    const maxSpeed = Math.max(...rows.flatMap((r) => series.map((s) => (r[s.key] ? r.js / r[s.key]! : 0))));
    rows.forEach((r, g) => {
      const y0 = g * (groupH + groupGap + top);
      const gEl = svg('g', { 'data-row': r.id });
      if (labelW) {
        gEl.append(svg('text', { x: 0, y: y0 + groupH / 2 - 4, class: 'bench-label' }, r.label));
        gEl.append(svg('text', { x: 0, y: y0 + groupH / 2 + 13, class: 'bench-detail' }, r.detail));
      } else {
        const line = svg('text', { x: 0, y: y0 + 14 });
        line.append(svg('tspan', { class: 'bench-label' }, r.label), svg('tspan', { dx: 8, class: 'bench-detail' }, r.detail));
        gEl.append(line);
      }
      series.forEach((s, i) => {
        const ms = r[s.key];
        if (ms === undefined) return;
        const speed = r.js / ms;
        const y = y0 + top + i * (barH + gap);
        const w = Math.max(3, (speed / maxSpeed) * plotW);
        gEl.append(svg('rect', { x: labelW, y, width: plotW, height: barH, rx: 4, class: 'bench-track' }));
        gEl.append(svg('rect', { x: labelW, y, width: w, height: barH, rx: 4, fill: s.color, class: 'bench-bar', 'data-series': s.key }));
        const t = svg('text', { x: labelW + w + 8, y: y + barH / 2 + 4.5, class: 'bench-value' }, fmtMs(ms));
        gEl.append(t);
        if (s.key !== 'js') {
          gEl.append(svg('text', { x: labelW + w + 8 + fmtMs(ms).length * 7.4 + 8, y: y + barH / 2 + 4.5, class: 'bench-speedup', fill: s.color }, `${speed.toFixed(1)}×`));
        }
      });
      root.append(gEl);
    });
    chart.append(root);
  }

  function finish(result: Extract<BenchMessage, { type: 'done' }>): void {
    rows = result.rows;
    const best = rows.map((r) => r.js / (r.relaxed ?? r.baseline));
    const geo = Math.exp(best.reduce((a, b) => a + Math.log(b), 0) / best.length);
    const diff = Math.max(...rows.map((r) => r.maxDiff));
    headline.replaceChildren(
      h('strong', { text: `${geo.toFixed(1)}× faster` }),
      ` than plain JS (geometric mean, ${result.relaxedSimd ? 'relaxed SIMD' : 'SIMD128'} binary). `,
      h('span', { class: 'muted', text: `Same answers: largest difference from the JS results ${diff.toExponential(1)}.` }),
    );
    status.textContent = 'Done. Timings are medians; the worker kept the page free while it ran.';
    root.dataset.state = 'done';
    button.disabled = false;
    button.textContent = 'Run again';
    bar.classList.remove('running');
    draw();
  }

  function start(quick = false): void {
    button.disabled = true;
    root.dataset.state = 'running';
    bar.classList.add('running');
    (bar.firstElementChild as HTMLElement).style.width = '0%';
    worker ??= new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<BenchMessage>) => {
      const m = e.data;
      if (m.type === 'progress') {
        status.textContent = `Measuring ${m.label}…`;
        (bar.firstElementChild as HTMLElement).style.width = `${(100 * m.done) / m.total}%`;
      } else if (m.type === 'done') {
        (bar.firstElementChild as HTMLElement).style.width = '100%';
        finish(m);
      } else {
        status.textContent = `Benchmark failed: ${m.message}`;
        root.dataset.state = 'error';
        button.disabled = false;
      }
    };
    worker.onerror = (e) => {
      status.textContent = `Benchmark worker failed: ${e.message}`;
      root.dataset.state = 'error';
      button.disabled = false;
    };
    worker.postMessage({ type: 'run', quick });
  }

  button.addEventListener('click', () => start(false));
  onWidth(chart, (w) => { width = w; draw(); });
  root.dataset.ready = 'true';
  // Start by itself the first time the section scrolls into view (?bench=quick: shorter runs).
  const quick = new URLSearchParams(location.search).get('bench') === 'quick';
  const io = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !root.dataset.state) {
      io.disconnect();
      start(quick);
    }
  }, { threshold: 0.15 });
  io.observe(root);
}
