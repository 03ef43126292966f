// The published types compile in a strict Node project without the DOM lib (lib ES2022, types node,
// skipLibCheck false), accept a JSON-imported spec without a cast, and reject typos in activation
// names, parameters and layer types at compile time. `tsc -p test/types` does the checking: every
// `// @ts-expect-error` line there must fail to compile (an unused one is itself an error).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

describe('published types', () => {
  it('test/types compiles: dist/*.d.ts under lib ES2022 + types node, JSON specs, checked spellings', () => {
    expect(existsSync(new URL('../dist/index.d.ts', import.meta.url)), 'dist/ is built (npm run build)').toBe(true);
    let output = '';
    try {
      output = execFileSync(process.execPath, [tsc, '-p', 'test/types', '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(output.trim()).toBe('');
    // The checks are really there: the consumer expects errors for typos.
    const consumer = readFileSync(new URL('./types/consumer.ts', import.meta.url), 'utf8');
    expect(consumer.match(/@ts-expect-error/g)!.length).toBeGreaterThanOrEqual(8);
  });
});
