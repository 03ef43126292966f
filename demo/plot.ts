// Small canvas helpers shared by the demo sections: crisp HiDPI canvases, a data→pixel view with
// equal or free aspect, axes and grid lines, and a seeded random generator.

export const COLORS = {
  bg: '#0d1326',
  grid: 'rgba(148, 163, 199, 0.10)',
  axis: 'rgba(148, 163, 199, 0.38)',
  text: '#9aa6c1',
  teal: '#5eead4',
  violet: '#a78bfa',
  amber: '#fbbf24',
  sky: '#38bdf8',
  rose: '#fb7185',
  slate: '#64748b',
};

/** Size a canvas to `cssWidth`×`cssHeight` CSS pixels at the device's pixel ratio; returns its 2-D context
 *  scaled so that drawing uses CSS pixels. */
export function fitCanvas(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D {
  const ratio = Math.min(window.devicePixelRatio || 1, 2);
  const w = Math.max(1, Math.round(cssWidth * ratio));
  const h = Math.max(1, Math.round(cssHeight * ratio));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

/** A rectangle of data coordinates mapped onto a rectangle of CSS pixels (y up). */
export class View {
  constructor(
    readonly x0: number, readonly x1: number, readonly y0: number, readonly y1: number,
    readonly width: number, readonly height: number, readonly pad = 0,
  ) {}

  /** A view of the box around the points, padded, with equal scales on both axes. */
  static equal(xs: ArrayLike<number>, ys: ArrayLike<number>, width: number, height: number, pad = 10): View {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!, y = ys[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    if (!Number.isFinite(x0)) { x0 = -1; x1 = 1; y0 = -1; y1 = 1; }
    const span = Math.max(x1 - x0, y1 - y0, 1e-3) * 1.08;
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const aspect = (width - 2 * pad) / (height - 2 * pad);
    const sx = aspect >= 1 ? span * aspect : span;
    const sy = aspect >= 1 ? span : span / aspect;
    return new View(cx - sx / 2, cx + sx / 2, cy - sy / 2, cy + sy / 2, width, height, pad);
  }

  px(x: number): number {
    return this.pad + ((x - this.x0) / (this.x1 - this.x0)) * (this.width - 2 * this.pad);
  }

  py(y: number): number {
    return this.height - this.pad - ((y - this.y0) / (this.y1 - this.y0)) * (this.height - 2 * this.pad);
  }
}

/** "Nice" tick step for a span: 1, 2 or 5 × 10^k giving about `count` ticks. */
export function tickStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * mag;
}

/** Grid lines, the two axes through 0 and (optionally) tick labels. */
export function drawAxes(ctx: CanvasRenderingContext2D, v: View, labels = true, ticks = 6): void {
  ctx.save();
  ctx.lineWidth = 1;
  ctx.font = '11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
  ctx.fillStyle = COLORS.text;
  const sx = tickStep(v.x1 - v.x0, ticks);
  const sy = tickStep(v.y1 - v.y0, Math.max(3, Math.round((ticks * v.height) / v.width)));
  ctx.strokeStyle = COLORS.grid;
  ctx.beginPath();
  for (let x = Math.ceil(v.x0 / sx) * sx; x <= v.x1; x += sx) {
    ctx.moveTo(Math.round(v.px(x)) + 0.5, 0);
    ctx.lineTo(Math.round(v.px(x)) + 0.5, v.height);
  }
  for (let y = Math.ceil(v.y0 / sy) * sy; y <= v.y1; y += sy) {
    ctx.moveTo(0, Math.round(v.py(y)) + 0.5);
    ctx.lineTo(v.width, Math.round(v.py(y)) + 0.5);
  }
  ctx.stroke();
  ctx.strokeStyle = COLORS.axis;
  ctx.beginPath();
  if (v.x0 <= 0 && v.x1 >= 0) {
    ctx.moveTo(Math.round(v.px(0)) + 0.5, 0);
    ctx.lineTo(Math.round(v.px(0)) + 0.5, v.height);
  }
  if (v.y0 <= 0 && v.y1 >= 0) {
    ctx.moveTo(0, Math.round(v.py(0)) + 0.5);
    ctx.lineTo(v.width, Math.round(v.py(0)) + 0.5);
  }
  ctx.stroke();
  if (labels) {
    const fmt = (t: number, step: number) => (Math.abs(t) < step / 2 ? '0' : String(+t.toFixed(step < 1 ? 1 : 0)));
    const yAxis = Math.min(Math.max(v.px(0), 4), v.width - 30);
    const xAxis = Math.min(Math.max(v.py(0), 12), v.height - 4);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (let x = Math.ceil(v.x0 / sx) * sx; x <= v.x1; x += sx) {
      if (Math.abs(x) < sx / 2) continue;
      const p = v.px(x);
      if (p < 12 || p > v.width - 12) continue;
      ctx.fillText(fmt(x, sx), p, Math.min(xAxis + 4, v.height - 14));
    }
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    for (let y = Math.ceil(v.y0 / sy) * sy; y <= v.y1; y += sy) {
      if (Math.abs(y) < sy / 2) continue;
      const p = v.py(y);
      if (p < 10 || p > v.height - 10) continue;
      ctx.fillText(fmt(y, sy), yAxis + 5, p);
    }
  }
  ctx.restore();
}

/** A polyline through (xs[i], ys[i]) for i in [from, to), skipping non-finite points. */
export function polyline(ctx: CanvasRenderingContext2D, v: View, xs: ArrayLike<number>, ys: ArrayLike<number>, from = 0, to = xs.length): void {
  ctx.beginPath();
  let pen = false;
  for (let i = from; i < to; i++) {
    const x = xs[i]!, y = ys[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; continue; }
    const px = v.px(x), py = Math.max(-1e4, Math.min(1e4, v.py(y)));
    if (pen) ctx.lineTo(px, py);
    else ctx.moveTo(px, py);
    pen = true;
  }
  ctx.stroke();
}

/** mulberry32: a small seeded generator in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal from a uniform generator (Box–Muller). */
export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Call `draw(width)` now and whenever the element's width changes. */
export function onWidth(el: HTMLElement, draw: (width: number) => void): void {
  let last = -1;
  const run = () => {
    const w = Math.floor(el.clientWidth);
    if (w > 0 && w !== last) {
      last = w;
      draw(w);
    }
  };
  new ResizeObserver(run).observe(el);
  run();
}

/** `document.createElement` with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children);
  return el;
}

/** Format a duration in ms with 2–3 significant digits and a unit. */
export function fmtMs(ms: number): string {
  if (ms < 0.01) return `${(ms * 1000).toFixed(1)} µs`;
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(0)} ms`;
}
