// What `nn.load`, `nn.loadOnnx`, `nn.loadTfjs` and `nn.readSafetensors` run: reading a source
// (a path, a URL, a Response, a Blob, bytes), recognising its format and importing it as a spec.
// The runtime imports this module with a dynamic import() on first use, so an application that only
// builds models from specs never downloads or parses the importers. The same module is the package's
// `simdnn/load` subpath, whose *Sync functions import synchronously (a static import of the
// importers, for code that has the bytes in hand).

import { copyBytes, isBytes } from '../arrays.js';
import type { Runtime } from '../runtime.js';
import type { Sequential, SequentialOptions } from '../model.js';
import { SimdnnError, describe } from '../errors.js';
import { detectFormat } from './detect.js';
import { onnxToSpec, type OnnxImportOptions } from './onnx.js';
import { decodeModel } from './onnx-proto.js';
import { readSafetensors, type ReadSafetensorsOptions, type SafetensorsFile } from './safetensors.js';
import { tfjsToSpec, type TfjsWeights } from './tfjs.js';
import { invalidModel, quote, unsupportedModel } from './spec.js';

export { onnxToSpec, readSafetensors, tfjsToSpec };

/** How the runtime's platform reads files (Node); absent in browsers. */
export interface FileReader {
  readFile(location: URL): Promise<Uint8Array>;
  /** A filesystem path as a file: URL (absolute, against the working directory). */
  fileUrl(path: string): URL;
}

/** What nn.load reads. */
export type ModelSource = string | URL | Response | Blob | ArrayBuffer | ArrayBufferView;

/** Options of nn.loadOnnx (and nn.load of an ONNX file). */
export interface LoadOnnxOptions {
  /** Which graph input feeds the model (default: the one input that is not an initializer). */
  input?: string;
  /** Which graph output to import (default: the probabilities/scores output). */
  output?: string;
  /** Bytes of the files that tensors stored as external data refer to, by their `location`. */
  externalData?: Map<string, Uint8Array> | Record<string, Uint8Array>;
}

/** Options of nn.load. */
export interface LoadOptions extends LoadOnnxOptions {
  /** A TF.js model's weight data, when its shards cannot be read beside model.json (a model.json
   *  given as bytes, a Blob or a Response without a URL): one buffer, the shards in manifest order,
   *  or the shards by their manifest path. */
  weights?: TfjsWeights;
  /** The tensors a simdnn JSON spec names (see nn.sequential). */
  tensors?: ReadonlyMap<string, unknown> | Readonly<Record<string, unknown>>;
}

type Checked = { -readonly [K in keyof LoadOptions]?: LoadOptions[K] } & { skipUnsupported?: unknown };

/** Read options once, rejecting unknown keys (a misspelt option must not be ignored). */
function checkOptions(options: unknown, op: string, keys: readonly string[]): Checked {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw new SimdnnError('INVALID_ARGUMENT', `${op}: options must be an object, received ${describe(options)}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    if (!keys.includes(key)) {
      throw new SimdnnError('INVALID_ARGUMENT', `${op}: unknown option '${key}'; expected ${keys.join(', ')}`);
    }
    out[key] = (options as Record<string, unknown>)[key];
  }
  for (const key of ['input', 'output']) {
    if (out[key] !== undefined && typeof out[key] !== 'string') {
      throw new SimdnnError('INVALID_ARGUMENT', `${op}: options.${key} must be a string (a graph ${key} name), received ${describe(out[key])}`);
    }
  }
  return out as Checked;
}

const ONNX_KEYS = ['input', 'output', 'externalData'];

/** The runtime has copied bytes arguments already (when the call was made): anything else is not bytes. */
function bytesArgument(value: unknown, op: string): Uint8Array {
  if (isBytes(value)) return value;
  throw new SimdnnError('INVALID_ARGUMENT', `${op}: bytes must be an ArrayBuffer or a Uint8Array, received ${describe(value)}`);
}

/** nn.loadOnnx */
export function loadOnnx(bytes: unknown, options: unknown): { spec: unknown } {
  const o = checkOptions(options, 'loadOnnx', ONNX_KEYS);
  return onnxToSpec(bytesArgument(bytes, 'loadOnnx'), { input: o.input, output: o.output, externalData: o.externalData });
}

/** nn.loadTfjs */
export function loadTfjs(modelJson: unknown, weights: unknown): { spec: unknown } {
  return { spec: tfjsToSpec(modelJson, weights as TfjsWeights | undefined) };
}

/** nn.readSafetensors */
export function readFile(bytes: unknown, options: unknown): SafetensorsFile {
  const o = checkOptions(options, 'readSafetensors', ['skipUnsupported']);
  return readSafetensors(bytesArgument(bytes, 'readSafetensors'), { skipUnsupported: o.skipUnsupported === true });
}

/** The bytes of a synchronous import, copied now through the engine's own accessors. */
function syncBytes(bytes: unknown, op: string, what = 'bytes'): Uint8Array {
  const copy = copyBytes(bytes, `${op}: ${what}`);
  if (copy === undefined) {
    throw new SimdnnError('INVALID_ARGUMENT', `${op}: ${what} must be an ArrayBuffer or a Uint8Array, received ${describe(bytes)}`);
  }
  return copy;
}

function build(nn: Runtime, op: string, spec: unknown, tensors?: unknown): Sequential {
  // `sequential` read once (a getter may answer differently the second time).
  const sequential: unknown = nn !== null && typeof nn === 'object' ? (nn as { sequential?: unknown }).sequential : undefined;
  if (typeof sequential !== 'function') {
    throw new SimdnnError('INVALID_ARGUMENT', `${op}: the first argument must be the runtime from init(), received ${describe(nn)}`);
  }
  const options = tensors === undefined ? undefined : ({ tensors } as SequentialOptions);
  return (sequential as (spec: unknown, options?: SequentialOptions) => Sequential)(spec, options);
}

/**
 * `import { loadOnnxSync } from 'simdnn/load'`: nn.loadOnnx without the await (the importers are
 * this module, imported statically). Same options and errors.
 */
export function loadOnnxSync(nn: Runtime, bytes: ArrayBuffer | Uint8Array, options?: LoadOnnxOptions): Sequential {
  return build(nn, 'loadOnnxSync', loadOnnx(syncBytes(bytes, 'loadOnnxSync'), options).spec);
}

/** nn.loadTfjs without the await: model.json (text, bytes or parsed) and its weight data. */
export function loadTfjsSync(nn: Runtime, modelJson: unknown, weights?: TfjsWeights): Sequential {
  const json = copyBytes(modelJson, 'loadTfjsSync: modelJson') ?? modelJson;
  return build(nn, 'loadTfjsSync', loadTfjs(json, weights).spec);
}

/** nn.readSafetensors without the await. */
export function readSafetensorsSync(bytes: ArrayBuffer | Uint8Array, options?: ReadSafetensorsOptions): SafetensorsFile {
  return readFile(syncBytes(bytes, 'readSafetensorsSync'), options);
}

/** nn.load */
export function load(source: unknown, options: unknown, files: FileReader | undefined): Promise<Loaded> {
  const o = checkOptions(options, 'load', [...ONNX_KEYS, 'weights', 'tensors']);
  return loadSource(source, o, files);
}

/** What to build: a spec, and the tensors it names (a saved simdnn file). */
export interface Loaded {
  spec: unknown;
  tensors?: unknown;
}

/** At most this many TF.js weight shards (TF.js writes 4 MB shards: 16 GB). */
const MAX_SHARDS = 4096;

const isResponse = (v: unknown): v is Response => typeof Response === 'function' && v instanceof Response;
const isBlob = (v: unknown): v is Blob => typeof Blob === 'function' && v instanceof Blob;

/** The bytes of a source, and where it came from (to find a TF.js model's shards beside it). */
async function readSource(source: unknown, files: FileReader | undefined): Promise<{ bytes: Uint8Array; base?: URL }> {
  if (isBytes(source)) return { bytes: source }; // copied by the runtime
  if (isResponse(source)) {
    const base = source.url ? new URL(source.url) : undefined;
    return { bytes: await responseBytes(source, base?.href ?? 'the Response'), base };
  }
  if (isBlob(source)) {
    try {
      return { bytes: new Uint8Array(await source.arrayBuffer()) };
    } catch (cause) {
      throw new SimdnnError('INVALID_MODEL', `load: the Blob cannot be read (${errorText(cause)})`, { cause });
    }
  }
  let url: URL;
  if (source instanceof URL) url = new URL(source.href);
  else if (typeof source === 'string') url = locate(source, files);
  else {
    throw new SimdnnError('INVALID_ARGUMENT', `load: source must be a path or URL, a Response, a Blob, an ArrayBuffer or a Uint8Array, received ${describe(source)}`);
  }
  return { bytes: await readUrl(url, files), base: url };
}

/** A string source as a URL: a URL with a scheme, else a path (Node) or a URL relative to the page. */
function locate(text: string, files: FileReader | undefined): URL {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text);
  // 'C:\models\m.onnx' is a Windows path, not a URL of scheme c.
  if (scheme && !(scheme[1]!.length === 1 && files)) return new URL(text);
  if (files) return files.fileUrl(text);
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  if (typeof page !== 'string') throw new SimdnnError('INVALID_ARGUMENT', `load: ${quote(text)} is a relative URL, and there is no page to resolve it against`);
  return new URL(text, page);
}

async function readUrl(url: URL, files: FileReader | undefined): Promise<Uint8Array> {
  if (url.protocol === 'file:') {
    if (!files) throw new SimdnnError('INVALID_ARGUMENT', `load: cannot read ${quote(url.href)}: file: URLs are read in Node only`);
    try {
      return await files.readFile(url);
    } catch (cause) {
      throw new SimdnnError('INVALID_MODEL', `load: cannot read ${quote(url.href)} (${errorText(cause)})`, { cause });
    }
  }
  let response: Response;
  try {
    response = await fetch(url.href);
  } catch (cause) {
    throw new SimdnnError('INVALID_MODEL', `load: cannot fetch ${quote(url.href)} (${errorText(cause)})`, { cause });
  }
  return responseBytes(response, url.href);
}

async function responseBytes(response: Response, what: string): Promise<Uint8Array> {
  if (!response.ok && response.status !== 0) {
    throw new SimdnnError('INVALID_MODEL', `load: ${quote(what)} answered HTTP ${response.status} ${response.statusText}`);
  }
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (cause) {
    throw new SimdnnError('INVALID_MODEL', `load: the body of ${quote(what)} cannot be read (${errorText(cause)})`, { cause });
  }
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : describe(e));

/** Read, recognise and import a model: what `nn.load` builds. */
async function loadSource(source: unknown, options: Checked, files: FileReader | undefined): Promise<Loaded> {
  const { bytes, base } = await readSource(source, files);
  const format = detectFormat(bytes);
  switch (format) {
    case 'onnx': {
      const externalData = options.externalData ?? (base ? await externalFiles(bytes, base, files) : undefined);
      const { spec } = onnxToSpec(bytes, { input: options.input, output: options.output, externalData });
      return { spec };
    }
    case 'safetensors': return savedModel(readSafetensors(bytes));
    case 'tfjs': return { spec: await tfjsModel(bytes, base, options.weights, files) };
    case 'simdnn': return { spec: parseJson(bytes, 'simdnn model spec'), tensors: options.tensors };
    case 'tfjs-graph':
      throw unsupportedModel('load: this is a TF.js graph model (model.json with format "graph-model"); simdnn imports TF.js layers models (tensorflowjs_converter --output_format=tfjs_layers_model, or TF.js model.save())');
    default:
      throw invalidModel(`load: ${bytes.length} bytes that are no model simdnn reads (an ONNX file, a safetensors file from model.save(), a TF.js layers model.json or a simdnn JSON spec)`);
  }
}

/** A file written by model.save(): the spec in __metadata__.simdnn naming the file's tensors. */
export function savedModel(file: SafetensorsFile): Loaded {
  const text = file.metadata.simdnn;
  if (text === undefined) {
    const names = [...file.keys()];
    throw unsupportedModel(`load: this safetensors file holds tensors (${names.slice(0, 6).map(quote).join(', ')}${names.length > 6 ? ', …' : ''}) but no simdnn model spec ` +
      `(model.save() writes one in __metadata__.simdnn), so the layers are unknown. Read it with nn.readSafetensors(bytes) and build the model with ` +
      `nn.sequential({ layers: [{ weights: 'fc1.weight', bias: 'fc1.bias', activation: 'relu' }, …] }, { tensors })`);
  }
  return { spec: parseJson(new TextEncoder().encode(text), 'the simdnn spec in __metadata__'), tensors: file };
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw invalidModel(`load: ${what} is not valid UTF-8 JSON (${errorText(err)})`);
  }
}

/** A file beside `base` (never outside its folder): TF.js weight shards, ONNX external data. */
function beside(path: string, base: URL, what: string): URL {
  const folder = new URL('.', base);
  let url: URL;
  try {
    url = new URL(path, folder);
  } catch {
    throw invalidModel(`${what} ${quote(path)} is not a relative URL`);
  }
  if (url.origin !== folder.origin || url.protocol !== folder.protocol || !url.pathname.startsWith(folder.pathname) || url.search || url.hash) {
    throw invalidModel(`${what} ${quote(path)} leaves the folder of ${quote(base.pathname.slice(base.pathname.lastIndexOf('/') + 1))} (${quote(folder.href)}); only files beside it are read`);
  }
  return url;
}

/** An ONNX model read from a path or URL whose initializers keep their data in external files: those
 *  files, read from beside the model (each once). */
async function externalFiles(bytes: Uint8Array, base: URL, files: FileReader | undefined): Promise<Map<string, Uint8Array> | undefined> {
  const locations = new Set<string>();
  for (const t of decodeModel(bytes).graph.initializers) {
    const location = t.external?.get('location');
    if (location !== undefined) locations.add(location);
  }
  if (locations.size === 0) return undefined;
  if (locations.size > MAX_SHARDS) throw invalidModel(`ONNX: tensors in more than ${MAX_SHARDS} external files`);
  const list = [...locations];
  const data = await Promise.all(list.map((l) => readUrl(beside(l, base, 'ONNX external data file'), files)));
  return new Map(list.map((l, i) => [l, data[i]!]));
}

/** A TF.js model.json: its shards are options.weights, or read beside it (never outside its folder). */
async function tfjsModel(bytes: Uint8Array, base: URL | undefined, weights: TfjsWeights | undefined, files: FileReader | undefined): Promise<unknown> {
  const json = parseJson(bytes, 'TF.js model.json') as { weightsManifest?: unknown; weightData?: unknown };
  if (weights !== undefined || json === null || typeof json !== 'object') return tfjsToSpec(json, weights);
  const manifest = json.weightsManifest;
  const paths: string[] = [];
  if (Array.isArray(manifest)) {
    for (const group of manifest) {
      const p: unknown = group !== null && typeof group === 'object' ? (group as { paths?: unknown }).paths : undefined;
      if (Array.isArray(p)) for (const path of p) paths.push(String(path));
      if (paths.length > MAX_SHARDS) throw invalidModel(`TF.js weightsManifest lists more than ${MAX_SHARDS} shard files`);
    }
  }
  if (paths.length === 0) return tfjsToSpec(json);
  if (!base) {
    throw new SimdnnError('INVALID_ARGUMENT', `load: this TF.js model.json came without a location, so its ${paths.length} weight file(s) (${paths.slice(0, 3).map(quote).join(', ')}) cannot be found: pass them as options.weights`);
  }
  const shards = await Promise.all(paths.map((path) => readUrl(beside(path, base, 'TF.js weights path'), files)));
  return tfjsToSpec(json, shards);
}
