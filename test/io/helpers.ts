// Fixture files for the import tests (Node only: reads test/fixtures/ with fs).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export { runSpec, expectClose, type Cases } from './run.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixture(path: string): Uint8Array {
  return new Uint8Array(readFileSync(FIXTURES + path));
}

export function fixtureJson<T>(path: string): T {
  return JSON.parse(readFileSync(FIXTURES + path, 'utf8')) as T;
}
