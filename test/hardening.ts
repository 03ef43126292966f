// Shared by the hardening tests (fuzz, errors, leaks, isolation): where they run, their
// environment knobs, the binary they load, and the marker for bugs found in files they may not edit.
import { it } from 'vitest';
import { SIMD } from './runtime.js';

/** The browser projects (vitest browser mode, Chromium) run these files too, on a smaller budget. */
export const IN_BROWSER = typeof window !== 'undefined' && typeof document !== 'undefined';

/**
 * Share of the full step counts this project runs (CI time is shared): the `node` project (baseline
 * binary) runs them all; `node-relaxed` re-runs the same properties on the FMA binary at half; the
 * browser projects (same V8; they add the fetch-based entry) at a tenth. The env knobs
 * (FUZZ_STEPS, …) override the counts.
 */
export const BUDGET = IN_BROWSER ? 0.1 : SIMD === 'relaxed' ? 0.5 : 1;

/** An environment variable (Node only; undefined in browsers). */
export function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = IN_BROWSER ? undefined : p?.env?.[name];
  return v === '' ? undefined : v;
}

/** An integer environment knob, or `fallback`. */
export function envInt(name: string, fallback: number): number {
  const v = env(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${v}`);
  return n;
}

/** The project's binary for `simd`, compiled once (runtimes created from it skip the compile). */
export async function wasmModule(simd: 'baseline' | 'relaxed'): Promise<WebAssembly.Module> {
  const url = new URL(`../build/${simd === 'relaxed' ? 'simdnn-relaxed.wasm' : 'simdnn-simd.wasm'}`, import.meta.url);
  if (IN_BROWSER) return WebAssembly.compile(await (await fetch(url)).arrayBuffer());
  const { readFile } = await import('node:fs/promises');
  return WebAssembly.compile(await readFile(url));
}

