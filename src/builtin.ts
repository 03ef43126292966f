/** A Node builtin through `process.getBuiltinModule` (Node ≥ 20.16), which hands over the loaded
 *  module without the ESM loader (a static `import … from 'node:fs/promises'` adds about 1 ms to a
 *  cold import, and a browser bundle must not name `node:` modules at all); undefined where it does
 *  not exist (browsers, workerd). */
export function builtin<T>(id: string): T | undefined {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  return typeof get === 'function' ? (get(id) as T | undefined) : undefined;
}
