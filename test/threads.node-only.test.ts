// The pool's failure paths in Node: a worker that dies mid-job, a worker script that cannot start,
// and a process that never calls nn.close() (it must still exit).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRuntime, SIMD } from './runtime.js';
import { wasmModule } from './hardening.js';

const fixture = (name: string) => new URL(`./fixtures/threads/${name}`, import.meta.url);

function wide(nn: Awaited<ReturnType<typeof createRuntime>>) {
  return nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 500, activation: 'relu' }, { type: 'dense', units: 3 }] }, { seed: 2 });
}
const batch = 128;
const x = Float32Array.from({ length: batch * 300 }, (_, i) => Math.cos(i * 0.3));

describe('worker pool failures (Node)', () => {
  it.each(['shared', 'copies'])('a worker that dies mid-job rejects that call with WORKER_FAILED; the pool starts new ones (%s)', async (mode) => {
    const nn = await createRuntime({ threads: 2, worker: fixture('dying-worker.mjs'), ...(mode === 'copies' ? { wasm: await wasmModule(SIMD) } : {}) });
    expect(nn.features.sharedMemory).toBe(mode === 'shared');
    const m = wide(nn);
    const err = await m.predictAsync(x, batch).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WORKER_FAILED' });
    expect(String((err as Error).message)).toMatch(/stopped while it computed this call.*exited \(code 3\)/);
    // Still two threads (the workers had started): the next call gets fresh workers, which die again.
    expect(nn.features.threads).toBe(2);
    await expect(m.predictAsync(x, batch)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    // predict is untouched.
    expect(m.predict(x, batch).length).toBe(batch * 3);
    // The threshold, both ways (these workers die on any job, so a call that resolves ran here): a
    // call under 2^22 multiply-adds runs on this thread; 2 rows of 2^21 + 2^11 each go to the pool.
    const small = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 100 }] }, { seed: 1 });
    expect((await small.predictAsync(new Float32Array(139 * 300), 139)).length).toBe(139 * 100); // 4.17M < 2^22
    const big = nn.sequential({ inputs: 1025, layers: [{ type: 'dense', units: 2048 }] }, { seed: 1 });
    await expect(big.predictAsync(new Float32Array(2 * 1025), 2)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    expect((await big.predictAsync(new Float32Array(1025), 1)).length).toBe(2048); // one row: never split
    small.dispose();
    big.dispose();
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

  it('no workers at all (a factory that throws, as where Worker does not exist): one thread, said in features', async () => {
    const nn = await createRuntime({ threads: 2, worker: () => { throw new Error('Worker is not defined here'); } });
    const m = wide(nn);
    expect(await m.predictAsync(x, batch)).toEqual(m.predict(x, batch));
    expect(nn.features).toMatchObject({ threads: 1, threadsUnavailable: expect.stringMatching(/could not start: Worker is not defined here/) });
    nn.dispose();
  });

  it('fit on the pool: a worker that dies mid-step rejects fit with WORKER_FAILED; workers that cannot start leave fit on this thread', async () => {
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 3);
    const options = { epochs: 1, batchSize: batch, loss: 'crossEntropy', optimizer: 'sgd', shuffle: false } as const;
    const softmax = (nn: Awaited<ReturnType<typeof createRuntime>>) =>
      nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 500, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] }, { seed: 2 });
    const one = await createRuntime({ threads: 1 });
    const expected = softmax(one);
    await expected.fit(x, labels, options);

    const dying = await createRuntime({ threads: 2, worker: fixture('dying-worker.mjs') });
    const m = softmax(dying);
    const before = m.getWeights();
    await expect(m.fit(x, labels, options)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    expect(m.getWeights()).toEqual(before); // the step that failed changed nothing
    await dying.close();
    dying.dispose();

    const missing = await createRuntime({ threads: 2, worker: new URL('./fixtures/threads/missing-worker.mjs', import.meta.url) });
    const n = softmax(missing);
    await n.fit(x, labels, options);
    expect(missing.features.threadsUnavailable).toMatch(/could not start/);
    expect(n.getWeights()).toEqual(expected.getWeights()); // bit for bit one thread's step
    missing.dispose();
    one.dispose();
  });

  it('fit on 3 threads: a worker that dies while another waits at the step\'s barrier rejects fit with its failure, not a hang', async () => {
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 3);
    const options = { epochs: 1, batchSize: batch, loss: 'crossEntropy', optimizer: 'sgd', shuffle: false } as const;
    const nn = await createRuntime({ threads: 3, worker: fixture('last-slice-dies.mjs') });
    const m = nn.sequential({ inputs: 300, layers: [{ type: 'dense', units: 500, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] }, { seed: 2 });
    const before = m.getWeights();
    const err = await m.fit(x, labels, options).then(() => undefined, (e: unknown) => e);
    // The cause is the worker that died (its exit), not the one told to give up at the barrier.
    expect(err).toMatchObject({ code: 'WORKER_FAILED', message: expect.not.stringMatching(/abandoned/) });
    expect(m.getWeights()).toEqual(before); // the step that failed changed nothing
    // The pool is still usable: the same call again (new workers, the third dies again), and predict.
    await expect(m.fit(x, labels, options)).rejects.toMatchObject({ code: 'WORKER_FAILED' });
    expect(m.getWeights()).toEqual(before);
    expect(m.predict(x.subarray(0, 300))).toHaveLength(3);
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
