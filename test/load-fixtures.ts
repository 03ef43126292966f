// The committed fixtures for the load tests, read in Node (fs) and in browsers (fetched from vite).
import { SimdnnError } from '../src/errors.js';
import { IN_BROWSER } from './runtime.js';

// import.meta.url through a variable: vite rewrites `new URL(template, import.meta.url)` into a glob of
// assets, which leaves a path it did not see as undefined.
const HERE = import.meta.url;
export const fixtureUrl = (path: string) => new URL(`./fixtures/${path}`, HERE);

/** A fixture's bytes: fs in Node (without a static node: import, so this file also runs in browsers), fetch in browsers. */
export async function fixtureBytes(path: string): Promise<Uint8Array> {
  if (IN_BROWSER) {
    const response = await fetch(fixtureUrl(path));
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} (${fixtureUrl(path).href})`);
    return new Uint8Array(await response.arrayBuffer());
  }
  const fs = (globalThis as unknown as { process: { getBuiltinModule(id: string): typeof import('node:fs') } }).process.getBuiltinModule('node:fs');
  return new Uint8Array(fs.readFileSync(fixtureUrl(path)));
}

export const fixtureJson = async <T>(path: string): Promise<T> => JSON.parse(new TextDecoder().decode(await fixtureBytes(path))) as T;

/** The refused ONNX fixtures (graphs that are not dense chains). */
export const BAD_ONNX = ['bad_branch', 'bad_conv', 'bad_cycle', 'bad_flatten_rank4', 'bad_layernorm_opset13', 'bad_layernorm_opset17', 'bad_two_inputs'];

/** What a load settles to: 'CODE: message' for a SimdnnError, 'no error', or a marker for anything else. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof SimdnnError ? `${err.code}: ${err.message}` : `not a SimdnnError: ${String(err)}`;
  }
  return 'no error';
}
