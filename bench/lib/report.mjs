// Turns the raw child results into the report: derived metrics (GFLOP/s, el/ns, GB/s, ratios,
// roofline fractions), the performance targets, and four renderings: console text, JSON, Markdown, SVG.
//
// Ratio convention everywhere: peer median ÷ simdnn median, so > 1 means simdnn is faster.

import { WORKLOADS } from './workloads.mjs';
import { bandwidthFor } from './roofline.mjs';

const SIMDNN = ['simdnn-simd', 'simdnn-relaxed'];

// ------------------------------------------------------------ formatting

export function fmtTime(ns) {
  if (!Number.isFinite(ns)) return '—';
  if (ns < 1e3) return `${ns.toPrecision(3)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}
export function fmtMs(ms) {
  return Number.isFinite(ms) ? fmtTime(ms * 1e6) : '—';
}
export function fmtRatio(r) {
  if (!Number.isFinite(r)) return '—';
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}
const fmtNum = (v, digits = 3) => (Number.isFinite(v) ? v.toPrecision(digits) : '—');
const pct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : '—');
const fmtBytes = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);

// ------------------------------------------------------------ derived metrics

function throughputOf(w, medianNs) {
  return {
    gflops: w.flops ? w.flops / medianNs : undefined,
    elPerNs: w.kind === 'elementwise' ? w.elements / medianNs : undefined,
    samplesPerSec: w.kind === 'train' ? (w.batch * 1e9) / medianNs : undefined,
    gbps: w.bytes / medianNs,
  };
}

/** The simdnn binary with the smaller median on a workload (the "best simdnn"). */
function bestSimdnn(results) {
  let best;
  for (const id of SIMDNN) {
    const r = results[id];
    if (r?.status === 'ok' && (!best || r.medianNs < best.medianNs)) best = { id, medianNs: r.medianNs };
  }
  return best;
}

/**
 * @param {object} raw  { machine, quick, wallSeconds, roofline, contenders: child results[],
 *                        startup: {id: run[]}, footprint: {id: Footprint}, failures: string[] }
 */
/** The multi-thread contenders (bench/contenders/threads.mjs): ids end in -<n>t. */
const THREADED = /-(\d+)t$/;

export function buildReport(raw) {
  const { roofline } = raw;
  // The multi-thread contenders get their own table (threadsRows); everything else compares
  // single-threaded contenders.
  const threadedRaw = raw.contenders.filter((c) => THREADED.test(c.contender));
  raw = { ...raw, contenders: raw.contenders.filter((c) => !THREADED.test(c.contender)) };
  const contenders = raw.contenders.map((c) => ({
    id: c.contender, label: c.label, info: c.info, error: c.error,
    footprint: raw.footprint[c.contender] ?? null,
    startup: summarizeStartup(raw.startup[c.contender]),
  }));
  const workloads = WORKLOADS.filter((w) => raw.contenders.some((c) => c.cells?.[w.id])).map((w) => {
    const results = {};
    for (const c of raw.contenders) {
      const cell = c.cells?.[w.id];
      if (!cell) {
        results[c.contender] = { status: c.error ? 'error' : 'missing', message: c.error ?? 'no result (child process ended early)' };
        continue;
      }
      if (cell.status !== 'ok') {
        results[c.contender] = { status: cell.status, reason: cell.reason, message: cell.message ?? cell.check?.message };
        continue;
      }
      const s = cell.stats;
      results[c.contender] = {
        status: 'ok',
        medianNs: s.median, p25Ns: s.p25, p75Ns: s.p75, madNs: s.mad, minNs: s.min,
        samples: s.samples, callsPerSample: s.reps, async: s.async,
        ...throughputOf(w, s.median),
        firstCallMs: cell.firstCallMs, setupMs: cell.setupMs,
        intoMedianNs: cell.intoStats?.median,
        maxAbsErr: cell.check.maxAbsErr, errorScore: cell.check.worstScore,
        ...(w.kind === 'train' ? { losses: cell.losses, lossKind: cell.lossKind, lastLoss: cell.lastLoss, info: cell.info } : {}),
      };
    }
    for (const [id, r] of Object.entries(results)) {
      if (r.status !== 'ok') continue;
      r.ratio = {};
      for (const s of SIMDNN) if (results[s]?.status === 'ok') r.ratio[s] = r.medianNs / results[s].medianNs;
      if (!SIMDNN.includes(id)) {
        const best = bestSimdnn(results);
        if (best) r.ratio.best = r.medianNs / best.medianNs;
      }
    }
    return {
      id: w.id, group: w.group, kind: w.kind, title: w.title, batch: w.batch, flops: w.flops, elements: w.elements,
      bytes: w.bytes, workingSet: w.workingSet, bestSimdnn: bestSimdnn(results)?.id ?? null, results,
      ...(w.kind === 'train' ? { loss0: w.reference().loss0 } : {}),
    };
  });
  const rooflineRows = roofline ? rooflineFractions(workloads, roofline) : [];
  const report = {
    meta: { ...raw.machine, quick: raw.quick, wallSeconds: raw.wallSeconds, ratioConvention: 'peer median ÷ simdnn median (> 1: simdnn faster)' },
    roofline, contenders, workloads, rooflineFractions: rooflineRows,
    importTiming: raw.importTiming?.length ? raw.importTiming : null,
    threads: threadsOf(raw, threadedRaw),
    engineStartup: raw.engineStartup ?? null,
    notes: notesOf(contenders),
    failures: raw.failures,
  };
  report.targets = evaluateTargets(report);
  return report;
}

/**
 * The thread comparison: for each workload the threaded contenders ran, each library's one-thread
 * median (its single-thread contender) and its N-thread medians, with the speed-up.
 */
function threadsOf(raw, threadedRaw) {
  if (!threadedRaw.length) return null;
  const families = [
    { name: 'simdnn (relaxed; predict / predictAsync)', one: 'simdnn-relaxed', prefix: 'simdnn-relaxed-' },
    { name: 'ORT Node (intraOpNumThreads)', one: 'ort-node', prefix: 'ort-node-' },
    { name: 'ORT Web (numThreads)', one: 'ort-web', prefix: 'ort-web-' },
  ];
  const median = (c, id) => (c?.cells?.[id]?.status === 'ok' ? c.cells[id].stats.median : null);
  const byId = Object.fromEntries([...raw.contenders, ...threadedRaw].map((c) => [c.contender, c]));
  const counts = [...new Set(threadedRaw.map((c) => Number(THREADED.exec(c.contender)[1])))].sort((a, b) => a - b);
  const rows = [];
  for (const w of WORKLOADS.filter((w) => threadedRaw.some((c) => c.cells?.[w.id]?.status === 'ok'))) {
    for (const f of families) {
      const one = median(byId[f.one], w.id);
      const many = counts.map((n) => {
        const c = byId[`${f.prefix}${n}t`];
        return { threads: n, medianNs: median(c, w.id), info: c?.info ?? null, error: c?.error ?? c?.cells?.[w.id]?.message ?? null };
      });
      if (one === null && many.every((m) => m.medianNs === null && !m.error)) continue; // not this library's workload (ORT does not train)
      rows.push({ workload: w.id, title: w.title, library: f.name, oneNs: one, many });
    }
  }
  return { counts, rows };
}

function threadsRows(report) {
  return report.threads.rows.map((r) => [
    r.title, r.library, r.oneNs === null ? 'n/a' : fmtTime(r.oneNs),
    ...r.many.flatMap((m) => [m.medianNs === null ? 'n/a' : fmtTime(m.medianNs), m.medianNs === null || r.oneNs === null ? '—' : `${(r.oneNs / m.medianNs).toFixed(2)}×`]),
  ]);
}

/** What the reader must know that is not a failure: a contender skipped on this machine. */
function notesOf(contenders) {
  return contenders.filter((c) => c.info?.skipped).map((c) => `${c.id} SKIPPED: ${c.info.skipped} (its cells are n/a and the targets against it have no data)`);
}

function summarizeStartup(runs) {
  if (!runs || runs.length === 0) return null;
  const ok = runs.filter((r) => r.ok);
  if (ok.length === 0) return { ok: false, runs: runs.length, message: runs[0].message ?? runs[0].error };
  const med = (k) => {
    const v = ok.map((r) => r[k]).sort((a, b) => a - b);
    return v[Math.floor((v.length - 1) / 2)];
  };
  return {
    ok: true, runs: ok.length,
    totalMs: med('totalMs'), importInitMs: med('importInitMs'), setupMs: med('setupMs'),
    firstCallMs: med('firstCallMs'), secondCallMs: med('secondCallMs'),
  };
}

/** simdnn cells as fractions of the in-run peak (compute) and of the bandwidth at their working set. */
function rooflineFractions(workloads, roofline) {
  const rows = [];
  for (const w of workloads) {
    const level = bandwidthFor(roofline, w.workingSet);
    for (const id of SIMDNN) {
      const r = w.results[id];
      if (r?.status !== 'ok') continue;
      const peak = id === 'simdnn-relaxed' && roofline.peakMaddGflops ? roofline.peakMaddGflops : roofline.peakMulAddGflops;
      rows.push({
        workload: w.id, contender: id,
        medianNs: r.medianNs, intoMedianNs: r.intoMedianNs ?? null,
        gflops: r.gflops ?? null, peakGflops: peak, computeFraction: r.gflops ? r.gflops / peak : null,
        elPerNs: r.elPerNs ?? null,
        gbps: r.gbps, bandwidthLevel: level.label, bandwidthGbps: level.gbps, bandwidthFraction: r.gbps / level.gbps,
      });
    }
  }
  return rows;
}

// ------------------------------------------------------------ the performance targets

const ALL_PEERS = null;
const TARGETS = [
  { text: 'dense 64² b1 ≤ 0.6 µs', workload: 'dense-64-b1', metric: 'time', limit: 600, better: 'lower', peers: ALL_PEERS },
  { text: 'dense 256² b1 ≤ 4 µs', workload: 'dense-256-b1', metric: 'time', limit: 4000, better: 'lower', peers: ALL_PEERS },
  { text: 'dense 1024² b1 ≥ 45 GFLOP/s (vs ORT Node)', workload: 'dense-1024-b1', metric: 'gflops', limit: 45, better: 'higher', peers: ['ort-node'] },
  { text: 'dense 4096² b1 ≥ 90% of measured DRAM bandwidth', workload: 'dense-4096-b1', metric: 'dramFraction', limit: 0.9, better: 'higher', peers: ALL_PEERS },
  { text: 'MLP b1 ≤ 22 µs (vs ORT Node/Web, tfjs-wasm)', workload: 'mlp-b1', metric: 'time', limit: 22000, better: 'lower', peers: ['ort-node', 'ort-web', 'tfjs-wasm'] },
  { text: 'MLP b256 ≥ 50 GFLOP/s (vs tfjs-wasm)', workload: 'mlp-b256', metric: 'gflops', limit: 50, better: 'higher', peers: ['tfjs-wasm'] },
  { text: 'relu 1M ≥ 5 el/ns (vs ORT Node)', workload: 'ew-relu', metric: 'elPerNs', limit: 5, better: 'higher', peers: ['ort-node'] },
  { text: 'sigmoid 1M ≥ 2.5 el/ns (vs ORT Node)', workload: 'ew-sigmoid', metric: 'elPerNs', limit: 2.5, better: 'higher', peers: ['ort-node'] },
  { text: 'tanh 1M ≥ 2.5 el/ns (vs ORT Node)', workload: 'ew-tanh', metric: 'elPerNs', limit: 2.5, better: 'higher', peers: ['ort-node'] },
  // This target was set against these libraries (ORT Node 30–80 ms, tfjs 250 ms); naive JS has nothing to import.
  { text: 'import → first inference ≤ 5 ms (vs ORT Node, tfjs)', workload: 'startup', metric: 'startupMs', limit: 5, better: 'lower', peers: ['ort-node', 'tfjs-cpu', 'tfjs-wasm'] },
  // Training (issue 11): ratio targets against one peer each (`minRatio`: met when peer time ÷ simdnn time ≥ it).
  { text: 'train 64-128-64-10 b32 ≥ 2× PyTorch (1 thread)', workload: 'train-64-128-64-10-b32', metric: 'time', minRatio: 2, better: 'lower', peers: ['pytorch'] },
  { text: 'train 64-128-64-10 b32 ≥ 10× tfjs-wasm', workload: 'train-64-128-64-10-b32', metric: 'time', minRatio: 10, better: 'lower', peers: ['tfjs-wasm'] },
  { text: 'train 784-512-256-10 b64 ≥ 0.8× PyTorch (1 thread)', workload: 'train-784-512-256-10-b64', metric: 'time', minRatio: 0.8, better: 'lower', peers: ['pytorch'] },
  { text: 'train 784-512-256-10 b64 ≥ 15× tfjs-wasm', workload: 'train-784-512-256-10-b64', metric: 'time', minRatio: 15, better: 'lower', peers: ['tfjs-wasm'] },
  // Threads (issue 12): simdnn on N threads against its own one-thread median, same run.
  { text: 'MLP b256: predictAsync on 2 threads ≥ 1.8× predict', workload: 'mlp-b256', metric: 'threadSpeedup', threads: 2, limit: 1.8, better: 'higher', peers: [] },
  { text: 'MLP b1024: predictAsync on 2 threads ≥ 1.8× predict', workload: 'mlp-b1024', metric: 'threadSpeedup', threads: 2, limit: 1.8, better: 'higher', peers: [] },
  { text: 'train 784-512-256-10 b128: fit on 2 threads ≥ 1.6× one thread', workload: 'train-784-512-256-10-b128', metric: 'threadSpeedup', threads: 2, limit: 1.6, better: 'higher', peers: [] },
  // Import timing (issue 10): steady-state median from bytes to a model ready to predict; the peers
  // create an ONNX Runtime session from the same model's ONNX bytes.
  { text: 'import MLP from ONNX ≤ 5 ms (vs ORT session create)', workload: 'import-onnx', metric: 'importMs', format: 'onnx', limit: 5, better: 'lower', peers: ['ort-node', 'ort-web'] },
  { text: 'import MLP from safetensors ≤ 5 ms (vs ORT session create)', workload: 'import-safetensors', metric: 'importMs', format: 'safetensors', limit: 5, better: 'lower', peers: ['ort-node', 'ort-web'] },
];

const UNITS = { threadSpeedup: '× one thread', time: 'ns', gflops: 'GFLOP/s', dramFraction: 'of DRAM bandwidth', elPerNs: 'el/ns', startupMs: 'ms', importMs: 'ms' };

function evaluateTargets(report) {
  const dram = report.roofline?.bandwidth?.find((b) => b.label === '64 MiB')?.gbps;
  const valueOf = (id, t) => {
    if (t.metric === 'startupMs') {
      const s = report.contenders.find((c) => c.id === id)?.startup;
      return s?.ok ? s.totalMs : undefined;
    }
    if (t.metric === 'threadSpeedup') {
      const row = report.threads?.rows.find((r) => r.workload === t.workload && r.library.startsWith('simdnn'));
      const many = row?.many.find((m) => m.threads === t.threads);
      return id === 'simdnn-relaxed' && row?.oneNs && many?.medianNs ? row.oneNs / many.medianNs : undefined;
    }
    if (t.metric === 'importMs') {
      // simdnn: the format of the target; ORT: its session from the ONNX bytes.
      const r = report.importTiming?.find((x) => x.contender === id && x.format === (SIMDNN.includes(id) ? t.format : 'onnx'));
      return r?.ok ? r.medianMs : undefined;
    }
    const r = report.workloads.find((w) => w.id === t.workload)?.results[id];
    if (r?.status !== 'ok') return undefined;
    if (t.metric === 'time') return r.medianNs;
    if (t.metric === 'dramFraction') return dram ? r.gbps / dram : undefined;
    return r[t.metric];
  };
  const better = (t, a, b) => (b === undefined || (a !== undefined && (t.better === 'lower' ? a < b : a > b)));
  return TARGETS.map((t) => {
    let simdnn, simdnnId;
    for (const id of SIMDNN) {
      const v = valueOf(id, t);
      if (v !== undefined && better(t, v, simdnn)) { simdnn = v; simdnnId = id; }
    }
    const peerIds = (t.peers ?? report.contenders.map((c) => c.id)).filter((id) => !SIMDNN.includes(id));
    let peer, peerId;
    for (const id of peerIds) {
      const v = valueOf(id, t);
      if (v !== undefined && better(t, v, peer)) { peer = v; peerId = id; }
    }
    // > 1: simdnn better than the best peer.
    const ratio = simdnn === undefined || peer === undefined ? null : t.better === 'lower' ? peer / simdnn : simdnn / peer;
    const met = t.minRatio !== undefined
      ? (ratio === null ? null : ratio >= t.minRatio)
      : simdnn === undefined ? null : t.better === 'lower' ? simdnn <= t.limit : simdnn >= t.limit;
    let note = feasibility(t, report);
    if (met === null && t.minRatio !== undefined && simdnn !== undefined) {
      const skipped = peerIds.map((id) => report.contenders.find((c) => c.id === id)).find((c) => c?.info?.skipped);
      note = skipped ? `${skipped.id} skipped on this machine` : 'the peer did not run';
    }
    return {
      target: t.text, workload: t.workload, metric: t.metric, unit: UNITS[t.metric], limit: t.limit ?? null, minRatio: t.minRatio ?? null,
      simdnn: simdnn ?? null, simdnnBinary: simdnnId ?? null, bestPeer: peer ?? null, bestPeerId: peerId ?? null,
      comparedWith: t.peers ?? 'all peers', ratio, met, ...(note ? { note } : {}),
    };
  });
}

/** Whether a throughput target is reachable on this machine at all, from the in-run roofline. */
function feasibility(t, report) {
  const r = report.roofline;
  if (!r) return undefined;
  const peak = Math.max(r.peakMulAddGflops, r.peakMaddGflops ?? 0);
  if (t.metric === 'gflops' && t.limit > peak) {
    return `above this machine's measured f32x4 peak (${peak.toFixed(1)} GFLOP/s)`;
  }
  if (t.metric === 'elPerNs') {
    const w = report.workloads.find((x) => x.id === t.workload);
    if (!w) return undefined;
    const needed = t.limit * (w.bytes / w.elements); // GB/s of nominal in + out traffic
    const bw = bandwidthFor(r, w.workingSet);
    if (needed > bw.gbps) return `needs ${needed.toFixed(0)} GB/s of input + output traffic; measured read bandwidth at this size (${bw.label}) is ${bw.gbps.toFixed(1)} GB/s`;
  }
  return undefined;
}

/** Recompute the targets of a saved report (for re-rendering latest.json after a change here). */
export function refreshTargets(report) {
  report.targets = evaluateTargets(report);
  return report;
}

function fmtTargetValue(metric, v) {
  if (v === null || v === undefined) return '—';
  if (metric === 'time') return fmtTime(v);
  if (metric === 'startupMs' || metric === 'importMs') return fmtMs(v);
  if (metric === 'dramFraction') return pct(v);
  if (metric === 'gflops') return `${fmtNum(v)} GFLOP/s`;
  if (metric === 'threadSpeedup') return `${v.toFixed(2)}×`;
  return `${fmtNum(v)} el/ns`;
}

// ------------------------------------------------------------ text tables

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (align?.[i] === 'l' ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function mdTable(headers, rows, align) {
  const sep = headers.map((_, i) => (align?.[i] === 'l' ? ':---' : '---:'));
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [headers, sep, ...rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}

function cellText(r, withRatio) {
  if (!r) return '—';
  if (r.status === 'n/a') return 'n/a';
  if (r.status !== 'ok') return r.status.toUpperCase();
  const t = fmtTime(r.medianNs);
  return withRatio && r.ratio?.best !== undefined ? `${t} (${fmtRatio(r.ratio.best)})` : t;
}

function matrixRows(report) {
  return report.workloads.map((w) => [w.title, ...report.contenders.map((c) => cellText(w.results[c.id], true))]);
}

function targetRows(report) {
  return report.targets.map((t) => [
    t.target, fmtTargetValue(t.metric, t.simdnn) + (t.simdnnBinary ? ` (${t.simdnnBinary.replace('simdnn-', '')})` : ''),
    t.bestPeerId ? `${fmtTargetValue(t.metric, t.bestPeer)} (${t.bestPeerId})` : '—',
    fmtRatio(t.ratio), (t.met === null ? 'no data' : t.met ? 'met' : 'NOT met') + (t.note ? ` (${t.note})` : ''),
  ]);
}

function rooflineSummary(report) {
  const r = report.roofline;
  if (!r) return 'roofline: not measured';
  return `peak f32x4: mul+add ${fmtNum(r.peakMulAddGflops)} GFLOP/s` +
    (r.peakMaddGflops ? `, relaxed_madd ${fmtNum(r.peakMaddGflops)} GFLOP/s` : '') +
    `; read bandwidth: ${r.bandwidth.map((b) => `${b.label} ${fmtNum(b.gbps)} GB/s`).join(', ')}`;
}

function rooflineRows(report) {
  return report.rooflineFractions.map((f) => [
    f.workload, f.contender.replace('simdnn-', ''), fmtTime(f.medianNs), f.intoMedianNs ? fmtTime(f.intoMedianNs) : '—',
    f.gflops !== null ? fmtNum(f.gflops) : f.elPerNs !== null ? `${fmtNum(f.elPerNs)} el/ns` : '—',
    f.computeFraction !== null ? pct(f.computeFraction) : '—',
    fmtNum(f.gbps), `${pct(f.bandwidthFraction)} of ${f.bandwidthLevel}`,
  ]);
}

function peakFor(report, id) {
  const r = report.roofline;
  if (!r) return undefined;
  return id === 'simdnn-relaxed' && r.peakMaddGflops ? r.peakMaddGflops : r.peakMulAddGflops;
}

/** W4 rows: time per step, samples/s, GFLOP/s counted as 3× the forward pass, % of the in-run peak. */
function trainingRows(report) {
  const rows = [];
  for (const w of report.workloads.filter((x) => x.kind === 'train')) {
    for (const c of report.contenders) {
      const r = w.results[c.id];
      if (r?.status !== 'ok') {
        if (r && r.status !== 'n/a') rows.push([w.title, c.id, r.status.toUpperCase(), '', '', '', '', r.message ?? '']);
        continue;
      }
      const peak = peakFor(report, c.id);
      const ratio = SIMDNN.includes(c.id) ? (c.id === w.bestSimdnn ? '—' : `${fmtRatio(r.medianNs / w.results[w.bestSimdnn].medianNs)} of best`) : fmtRatio(r.ratio?.best);
      const losses = r.losses?.length ? `${r.losses[0].toPrecision(4)} → ${r.losses.at(-1).toPrecision(4)}${r.lossKind === 'crossEntropy' ? '' : ' (sq. error)'}` : '—';
      rows.push([
        w.title, c.id, fmtTime(r.medianNs), Math.round(r.samplesPerSec).toLocaleString('en-US'), fmtNum(r.gflops),
        peak ? pct(r.gflops / peak) : '—', ratio, losses,
      ]);
    }
  }
  return rows;
}
const TRAIN_HEADERS = ['workload', 'contender', 'time/step', 'samples/s', 'GFLOP/s (3× fwd)', '% of f32x4 peak', 'peer ÷ simdnn', `loss, step 1 → 5 (batch 0)`];

function importRows(report) {
  const ortNode = report.importTiming.find((r) => r.contender === 'ort-node' && r.ok);
  return report.importTiming.map((r) => [
    r.contender, r.format, r.bytes ? `${(r.bytes / 1e6).toFixed(2)} MB` : '—',
    r.firstMs !== undefined ? fmtMs(r.firstMs) : '—',
    r.medianMs !== undefined ? fmtMs(r.medianMs) : '—',
    r.medianMs !== undefined ? `${fmtMs(r.p25Ms)} – ${fmtMs(r.p75Ms)}` : '—',
    ortNode && r.medianMs !== undefined && r.contender !== 'ort-node' ? fmtRatio(ortNode.medianMs / r.medianMs) : '—',
    r.ok ? 'ok' : `WRONG: ${r.message ?? ''}`,
  ]);
}
const IMPORT_HEADERS = ['contender', 'format', 'bytes', 'first load', 'steady median', 'p25 – p75', 'ORT Node ÷ this', 'check'];

/** The console rendering: the matrix, targets and roofline (details are in latest.md). */
export function renderConsole(report) {
  const out = [];
  out.push(`simdnn benchmark${report.meta.quick ? ' (QUICK: short timings, smoke test)' : ''} — ${report.meta.cpu}, node ${report.meta.node}, ${report.meta.date}`);
  out.push(rooflineSummary(report), '');
  out.push('median time per call (peer ÷ best simdnn binary; > 1× means simdnn is faster)');
  out.push(table(['workload', ...report.contenders.map((c) => c.id)], matrixRows(report), ['l']));
  out.push('', 'start-up (fresh process): import → first inference');
  out.push(table(['contender', 'import+init', 'model setup', 'first call', 'total', 'JS', 'wasm'], startupRows(report), ['l']));
  if (report.workloads.some((w) => w.kind === 'train')) {
    out.push('', 'training: one Adam step (time/step median; GFLOP/s = 3 × forward FLOPs ÷ time; % of the in-run f32x4 peak)');
    out.push(table(TRAIN_HEADERS, trainingRows(report), ['l', 'l']));
  }
  if (report.importTiming) {
    out.push('', 'import timing: 784-512-256-10 MLP from bytes to a model ready to predict (first load in a fresh process; steady-state median)');
    out.push(table(IMPORT_HEADERS, importRows(report), ['l', 'l']));
  }
  if (report.threads) {
    out.push('', `threads: one-thread median and N-thread medians (speed-up = 1 thread ÷ N threads)`);
    out.push(table(['workload', 'library', '1 thread', ...report.threads.counts.flatMap((n) => [`${n} threads`, 'speed-up'])], threadsRows(report), ['l', 'l']));
  }
  out.push('', 'targets');
  out.push(table(['target', 'simdnn', 'best peer', 'ratio', 'status'], targetRows(report), ['l', 'l', 'l', 'r', 'l']));
  for (const n of report.notes ?? []) out.push('', `*** ${n} ***`);
  out.push('', 'simdnn against the in-run roofline');
  out.push(table(['workload', 'binary', 'median', 'into out', 'GFLOP/s', '% peak', 'GB/s', '% bandwidth'], rooflineRows(report), ['l', 'l']));
  return out.join('\n');
}

function startupRows(report) {
  // PyTorch (training only, in Python) has neither a start-up figure nor a web footprint.
  return report.contenders.filter((c) => c.startup || c.footprint).map((c) => {
    const s = c.startup, f = c.footprint;
    const size = (raw, gz) => (raw ? `${fmtBytes(raw)} (${fmtBytes(gz)} gz)` : '—');
    return [
      c.id,
      s?.ok ? fmtMs(s.importInitMs) : s ? 'FAILED' : '—', s?.ok ? fmtMs(s.setupMs) : '—',
      s?.ok ? fmtMs(s.firstCallMs) : '—', s?.ok ? fmtMs(s.totalMs) : '—',
      f ? size(f.js, f.jsGzip) : '—',
      f ? (f.wasm ? size(f.wasm, f.wasmGzip) : f.native ? `native ${fmtBytes(f.native)}` : '—') : '—',
    ];
  });
}

// ------------------------------------------------------------ Markdown

export function renderMarkdown(report) {
  const m = report.meta;
  const out = [];
  out.push(`# simdnn benchmark${m.quick ? ' (QUICK smoke run: timings are indicative only)' : ''}`, '');
  out.push(`- date: ${m.date}`);
  out.push(`- machine: ${m.cpu} (${m.cores} cores, ${m.mhz ? `${m.mhz} MHz, ` : ''}caches ${m.caches}), ${m.memoryGiB} GiB RAM, ${m.platform}`);
  out.push(`- node ${m.node} (V8 ${m.v8}); simdnn ${m.simdnnVersion} at ${m.commit}`);
  out.push(`- load average (1/5/15 min) at start ${m.loadAverageAtStart?.join(' / ')}, at end ${m.loadAverageAtEnd?.join(' / ')} (above ${m.cores}, other jobs shared the CPU: expect noise)`);
  out.push(`- wall time: ${m.wallSeconds.toFixed(1)} s; every contender single-threaded; each call is end to end (Float32Array in → JS-readable Float32Array out)`);
  out.push(`- ratios are ${m.ratioConvention}`);
  out.push(`- ${rooflineSummary(report)}`, '');

  out.push('## Summary: median time per call (× = peer ÷ best simdnn binary)', '');
  out.push(mdTable(['workload', ...report.contenders.map((c) => c.id)], matrixRows(report), ['l']), '');
  out.push('![simdnn vs peers](latest.svg)', '');

  const faster = [];
  for (const w of report.workloads) {
    for (const c of report.contenders) {
      const r = w.results[c.id];
      if (r.status === 'ok' && r.ratio?.best !== undefined && r.ratio.best < 1) {
        faster.push(`- ${w.title}: **${c.id}** ${fmtTime(r.medianNs)} vs simdnn ${fmtTime(w.results[w.bestSimdnn].medianNs)} (${w.bestSimdnn}) — peer ÷ simdnn = ${fmtRatio(r.ratio.best)}`);
      }
    }
  }
  out.push('## Where a peer is faster than simdnn', '');
  out.push(...(faster.length ? faster : ['- nowhere in this run']), '');

  for (const n of report.notes ?? []) out.push(`**${n}**`, '');

  if (report.workloads.some((w) => w.kind === 'train')) {
    out.push('## Training: one Adam step', '');
    out.push('Every contender starts from the same weights and steps through the same 8 batches of random inputs with random labels: forward, softmax + cross-entropy (fused, on the logits), backward, Adam (lr 1e-3, β 0.9/0.999, ε 1e-8), the loss returned to JavaScript (Python for PyTorch) every step. The check: 5 steps on batch 0, the first loss equal to the float64 loss of the initial weights (within 1e-5 + 1e-4·|loss|) and the last lower. GFLOP/s counts a step as 3 × the forward FLOPs (2·Σ in·out per sample); the peak is the in-run f32x4 one (relaxed_madd for the relaxed binary, mul+add otherwise), which native PyTorch is not limited to. brain.js has no softmax, cross-entropy or batches: its row is 32 online (per-sample) Adam updates of a relu-everywhere net with squared error, the same samples per second but not the same computation. TF.js: `optimizer.minimize` of `tf.train.adam` over `tf.losses.softmaxCrossEntropy`. PyTorch: `torch.set_num_threads(1)`, `nn.Sequential` of `Linear`/`ReLU`, `F.cross_entropy`, `torch.optim.Adam`, timed inside Python with the same budget rules.', '');
    out.push(mdTable(TRAIN_HEADERS, trainingRows(report), ['l', 'l']), '');
  }
  if (report.importTiming) {
    out.push('## Import timing: 784-512-256-10 MLP from bytes', '');
    out.push(`From bytes in memory to a model ready to predict (2.1 MB of float32 weights), one fresh process per row; the library is imported and initialised before the clock starts. first load = the first in the process: for simdnn it includes the dynamic import of the importers' chunk (dist/load.js), for ORT Web the instantiation of its wasm binary. steady = median of ${report.importTiming.find((r) => r.runs)?.runs ?? '?'} loads after ${report.importTiming.find((r) => r.runs)?.warmups ?? '?'} warm-up loads (V8 optimises the importers' parsing code over the first ten or so loads; steady is the best case, first load is what an application that loads one model sees). Each first model predicts one row, checked against the float64 reference. Formats: ${Object.entries({ onnx: 'ONNX as PyTorch exports it (Gemm transB=1, Relu, Softmax; symbolic batch), nn.loadOnnx', safetensors: 'a PyTorch state dict (0.weight, 0.bias, 2.weight, …) with a spec naming its tensors, nn.readSafetensors + nn.sequential(spec, { tensors })', simdnn: 'the file model.save() writes, nn.load', tfjs: 'a tfjs-layers model.json + weights.bin, nn.loadTfjs', build: 'no file, nn.sequential of Float32Arrays (the packing alone)' }).map(([k, v]) => `${k} = ${v}`).join('; ')}; ORT: InferenceSession.create(onnxBytes) with the contender's options (one thread, graphOptimizationLevel all).`, '');
    out.push(mdTable(IMPORT_HEADERS, importRows(report), ['l', 'l']), '');
  }

  if (report.threads) {
    out.push('## Threads: the batched rows on more than one thread', '');
    out.push(`One thread = the single-thread contender's median (simdnn: \`predict\`, relaxed binary); N threads = simdnn's \`predictAsync\` on \`init({ threads: N })\` (rows split between the workers; ${report.threads.rows.find((r) => r.library.startsWith('simdnn'))?.many[0]?.info?.sharedMemory ? 'shared memory' : 'copies'}), ORT Node with N intra-op threads, ORT Web with N wasm threads, in the same run. Speed-up = one thread ÷ N threads. Dense 4096² is batch 1: predictAsync splits the layer's units (output columns) between the threads in shared memory. The training step is \`fit\` over one batch, on one thread and on N (rows split for the forward and backward passes, units for the weight gradients and the optimizer).`, '');
    out.push(mdTable(['workload', 'library', '1 thread', ...report.threads.counts.flatMap((n) => [`${n} threads`, 'speed-up'])], threadsRows(report), ['l', 'l']), '');
  }

  out.push('## Targets', '');
  out.push('simdnn = the better of its two binaries; ratio = how many times better simdnn is than the best listed peer (> 1: simdnn better).', '');
  out.push(mdTable(['target', 'simdnn', 'best peer', 'ratio', 'status'], targetRows(report), ['l', 'l', 'l', 'r', 'l']), '');

  out.push('## simdnn against the in-run roofline', '');
  out.push('Compute fraction = GFLOP/s ÷ measured peak (mul+add peak for the SIMD128 binary, relaxed_madd peak for the relaxed one). Bandwidth fraction = nominal bytes (weights + input + output) per second ÷ the measured read bandwidth at the size level of the working set (≤ 48 KiB → 32 KiB, ≤ 1.5 MiB → 1 MiB, ≤ 6 MiB → 4 MiB, else 64 MiB). "into out" = the same call writing into a preallocated output (predictInto / the `out` argument): the gap to "median" is what allocating the returned Float32Array costs (full runs only).', '');
  out.push(mdTable(['workload', 'binary', 'median', 'into out', 'GFLOP/s (or el/ns)', '% of peak', 'GB/s', '% of bandwidth'], rooflineRows(report), ['l', 'l']), '');

  out.push('## Start-up and size', '');
  const runs = report.contenders[0]?.startup?.runs ?? 0;
  out.push(`Fresh process per contender (${runs > 1 ? `median of ${runs} runs` : '1 run'}), model: dense 64² relu. Clock starts before the library's import; weights (and the .onnx bytes) already exist. import+init = import the library and initialise its backend; model setup = build the model/session; first call = first inference.`, '');
  out.push(mdTable(['contender', 'import+init', 'model setup', 'first call', 'total', 'JS', 'wasm / native'], startupRows(report), ['l']), '');
  if (report.engineStartup) {
    out.push('simdnn in other JavaScript engines (test/engines/run.mjs, median of 5 fresh processes, the same 64² model): "in process" = import → init() → first inference inside the engine; "spawn → result" = starting the process (or `workerd serve`) until the result arrives.', '');
    out.push(mdTable(['engine', 'version', 'binary', 'in process', 'spawn → result'], report.engineStartup.startups.map((e) => [
      e.engine, report.engineStartup.versions?.[e.engine] ?? '', e.binary,
      typeof e.inProcess === 'number' && Number.isFinite(e.inProcess) ? fmtMs(e.inProcess) : '—', fmtMs(e.wall),
    ]), ['l', 'l', 'l']), '');
  }
  out.push('Sizes counted:', '');
  for (const c of report.contenders) if (c.footprint) out.push(`- ${c.id}: ${c.footprint.note}`);
  out.push('');

  out.push('## Details per workload', '');
  for (const w of report.workloads) {
    out.push(`### ${w.title}`, '');
    const metric = w.kind === 'train' ? 'GFLOP/s (3× fwd)' : w.flops ? 'GFLOP/s' : 'el/ns';
    const rows = report.contenders.map((c) => {
      const r = w.results[c.id];
      if (r.status !== 'ok') return [c.id, r.status === 'n/a' ? `n/a: ${r.reason}` : `${r.status.toUpperCase()}: ${r.message ?? ''}`, '', '', '', '', '', '', ''];
      return [
        c.id, fmtTime(r.medianNs), `${fmtTime(r.p25Ns)} – ${fmtTime(r.p75Ns)}`, fmtTime(r.madNs),
        fmtNum(w.flops ? r.gflops : r.elPerNs),
        fmtRatio(r.ratio['simdnn-simd']), fmtRatio(r.ratio['simdnn-relaxed']),
        fmtMs(r.firstCallMs), Number.isFinite(r.maxAbsErr) ? r.maxAbsErr.toExponential(1) : '—',
      ];
    });
    out.push(mdTable(['contender', 'median', 'p25 – p75', 'MAD', metric, '÷ simdnn SIMD128', '÷ simdnn relaxed', 'first call', w.kind === 'train' ? '|first loss − float64|' : 'max |err|'], rows, ['l', 'r', 'l']), '');
  }

  out.push('## Contenders', '');
  for (const c of report.contenders) {
    out.push(`- **${c.id}** — ${c.label}${c.info ? `: ${Object.entries(c.info).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}${c.error ? ` — ERROR: ${c.error}` : ''}`);
  }
  out.push('');
  if (report.failures.length) {
    out.push('## FAILURES', '', ...report.failures.map((f) => `- ${f}`), '');
  }
  return out.join('\n');
}

// ------------------------------------------------------------ SVG chart

const COLORS = {
  'simdnn-simd': '#1f6feb', 'simdnn-relaxed': '#0b3d91', 'naive-js': '#8c8c8c', 'tfjs-cpu': '#f0a030',
  'tfjs-wasm': '#d9480f', 'ort-web': '#2f9e44', 'ort-node': '#087f5b', 'brain.js': '#ae3ec9', pytorch: '#c92a2a',
};

const xmlEsc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Grouped horizontal bars, one group per workload (plus start-up), one bar per contender: its time
 * relative to the best simdnn binary on a log scale, diverging from 1× (right: slower than simdnn).
 */
export function renderSvg(report) {
  const groups = report.workloads.map((w) => {
    const best = w.bestSimdnn ? w.results[w.bestSimdnn].medianNs : null;
    return {
      title: `${w.title}${best ? ` — simdnn ${fmtTime(best)}` : ''}`,
      bars: report.contenders.map((c) => {
        const r = w.results[c.id];
        return r.status === 'ok' && best ? { id: c.id, ratio: r.medianNs / best } : { id: c.id, text: r.status === 'n/a' ? 'n/a' : r.status };
      }),
    };
  });
  const starts = report.contenders.map((c) => c.startup);
  const simdnnStart = Math.min(...report.contenders.filter((c) => SIMDNN.includes(c.id) && c.startup?.ok).map((c) => c.startup.totalMs));
  if (Number.isFinite(simdnnStart)) {
    groups.push({
      title: `start-up: import → first inference — simdnn ${fmtMs(simdnnStart)}`,
      bars: report.contenders.map((c, i) => (starts[i]?.ok ? { id: c.id, ratio: starts[i].totalMs / simdnnStart } : { id: c.id, text: 'n/a' })),
    });
  }
  const ratios = groups.flatMap((g) => g.bars.filter((b) => b.ratio).map((b) => b.ratio));
  const lo = Math.min(0.1, 10 ** Math.floor(Math.log10(Math.min(...ratios)))) || 0.1;
  const hi = Math.max(10, 10 ** Math.ceil(Math.log10(Math.max(...ratios)))) || 10;

  const W = 960, left = 120, right = 60, top = 78, barH = 11, gap = 2, groupGap = 26;
  const plotW = W - left - right;
  const x = (r) => left + ((Math.log10(r) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const groupH = report.contenders.length * (barH + gap) + groupGap;
  const H = top + groups.length * groupH + 24;
  const s = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="11">`);
  s.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  s.push(`<text x="${left}" y="20" font-size="15" font-weight="600">simdnn vs peers: time per call ÷ simdnn's (best binary), log scale</text>`);
  s.push(`<text x="${left}" y="37" fill="#555">${xmlEsc(`${report.meta.cpu}, node ${report.meta.node}, ${report.meta.date.slice(0, 10)}${report.meta.quick ? ', QUICK run' : ''}; one thread each`)}</text>`);
  // legend
  let lx = left;
  for (const c of report.contenders) {
    s.push(`<rect x="${lx}" y="46" width="10" height="10" fill="${COLORS[c.id] ?? '#444'}"/><text x="${lx + 14}" y="55">${xmlEsc(c.id)}</text>`);
    lx += 14 + c.id.length * 6.5 + 14;
  }
  // grid
  for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++) {
    const r = 10 ** e, gx = x(r);
    s.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${H - 16}" stroke="${r === 1 ? '#000' : '#ddd'}" stroke-width="${r === 1 ? 1.2 : 1}"/>`);
    s.push(`<text x="${gx}" y="${top - 9}" text-anchor="middle" fill="#333">${r >= 1 ? r : r.toString()}×</text>`);
  }
  const one = x(1);
  groups.forEach((g, gi) => {
    const gy = top + gi * groupH;
    s.push(`<text x="${left}" y="${gy + 10}" font-weight="600">${xmlEsc(g.title)}</text>`);
    g.bars.forEach((b, bi) => {
      const y = gy + 14 + bi * (barH + gap);
      s.push(`<text x="${left - 6}" y="${y + barH - 2}" text-anchor="end" fill="#333">${xmlEsc(b.id)}</text>`);
      if (!b.ratio) {
        s.push(`<text x="${one + 4}" y="${y + barH - 2}" fill="#999">${xmlEsc(b.text)}</text>`);
        return;
      }
      const bx = x(b.ratio);
      const x0 = Math.min(one, bx), w = Math.max(1.5, Math.abs(bx - one));
      s.push(`<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[b.id] ?? '#444'}"><title>${xmlEsc(`${b.id}: ${fmtRatio(b.ratio)}`)}</title></rect>`);
      const tx = b.ratio >= 1 ? x0 + w + 4 : x0 - 4;
      s.push(`<text x="${tx.toFixed(1)}" y="${y + barH - 2}" text-anchor="${b.ratio >= 1 ? 'start' : 'end'}" fill="#222">${fmtRatio(b.ratio)}</text>`);
    });
  });
  const axisY = H - 4;
  s.push(`<text x="${one - 8}" y="${axisY}" text-anchor="end" fill="#555">← peer faster than simdnn</text>`);
  s.push(`<text x="${one + 8}" y="${axisY}" fill="#555">peer slower than simdnn (simdnn wins) →</text>`);
  s.push('</svg>');
  return s.join('\n');
}
