// The pool's failure paths in Node: a worker that dies mid-job, a worker script that cannot start,
// and a process that never calls nn.close() (it must still exit).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRuntime } from './runtime.js';

const fixture = (name: string) => new URL(`./fixtures/threads/${name}`, import.meta.url);

function wide(nn: Awaited<ReturnType<typeof createRuntime>>) {
  return nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 500, activation: 'relu' }, { type: 'dense', units: 3 }] }, { seed: 2 });
}
const batch = 128;
const x = Float32Array.from({ length: batch * 300 }, (_, i) => Math.cos(i * 0.3));

describe('worker pool failures (Node)', () => {
  it('a worker that dies mid-job rejects that call with WORKER_FAILED; the pool starts new ones', async () => {
    const nn = await createRuntime({ threads: 2, worker: fixture('dying-worker.mjs') });
    const m = wide(nn);
    const err = await m.predictAsync(x, batch).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WORKER_FAILED' });
    expect(String((err as Error).message)).toMatch(/stopped while it computed this call.*exited \(code 3\)/);
    // Still two threads (the workers had started): the next call gets fresh workers, which die again.
    expect(nn.features.threads).toBe(2);
    await expect(m.predictAsync(x, batch)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    // predict is untouched.
    expect(m.predict(x, batch).length).toBe(batch * 3);
    await nn.close();
    nn.dispose();
  });

  it('a worker script that cannot start: the call runs on this thread, and features say why', async () => {
    const nn = await createRuntime({ threads: 2, worker: new URL('./fixtures/threads/missing-worker.mjs', import.meta.url) });
    const m = wide(nn);
    const expected = m.predict(x, batch);
    const got = await m.predictAsync(x, batch);
    expect(got).toEqual(expected);
    expect(nn.features.threads).toBe(1);
    expect(nn.features.threadsUnavailable).toMatch(/could not start/);
    expect(await m.predictAsync(x, batch)).toEqual(expected); // and stays on one thread
    await nn.close();
    nn.dispose();
  });

  it('a script that never calls nn.close() exits on its own after its last promise', () => {
    const started = Date.now();
    const run = spawnSync(process.execPath, [fileURLToPath(fixture('exits.mjs'))], { encoding: 'utf8', timeout: 30_000 });
    expect(run.error, 'the process did not exit within 30 s').toBeUndefined();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as { same: boolean; threads: number; done: number };
    expect(report).toMatchObject({ same: true, threads: 2 });
    // How long the process lived after its last promise settled, for the log (not asserted: timing).
    console.log(`exits.mjs: exited ${Date.now() - report.done} ms after its last promise (${Date.now() - started} ms in all)`);
  });
});
