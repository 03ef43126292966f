// A Web Worker that owns a simdnn runtime and one model, so inference never blocks the page.
// Protocol: { type: 'load', simd, spec } → { type: 'loaded', binary, inputs, outputs };
//           { type: 'predict', id, x, batch } → { type: 'result', id, y } (y's buffer transferred);
//           { type: 'predictThreads', id, x, batch, spec } → { type: 'result', id, y, threads, unavailable }
//             (model.predictAsync on a runtime with a pool of two workers started from this worker);
//           any failure → { type: 'error', id, code, message }.
import { init, type ModelSpec, type Sequential } from '../../src/index.js';

type Request =
  | { type: 'load'; simd: 'auto' | 'baseline' | 'relaxed'; spec: ModelSpec }
  | { type: 'predict'; id: number; x: Float32Array; batch: number }
  | { type: 'predictThreads'; id: number; x: Float32Array; batch: number; simd: 'auto' | 'baseline' | 'relaxed'; spec: ModelSpec };

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<Request>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let model: Sequential | undefined;

scope.onmessage = async ({ data }) => {
  const id = data.type === 'load' ? -1 : data.id;
  try {
    if (data.type === 'load') {
      const nn = await init({ simd: data.simd });
      model?.dispose();
      model = nn.sequential(data.spec);
      scope.postMessage({ type: 'loaded', binary: nn.features.binary, inputs: model.inputs, outputs: model.outputs });
    } else if (data.type === 'predictThreads') {
      const nn = await init({ simd: data.simd, threads: 2 });
      const m = nn.sequential(data.spec);
      const y = await m.predictAsync(data.x, data.batch);
      m.dispose();
      const { threads, threadsUnavailable } = nn.features;
      await nn.close();
      scope.postMessage({ type: 'result', id, y, threads, unavailable: threadsUnavailable }, [y.buffer]);
    } else {
      if (!model) throw Object.assign(new Error('predict before load'), { code: 'NOT_LOADED' });
      const y = model.predict(data.x, data.batch);
      scope.postMessage({ type: 'result', id, y }, [y.buffer]);
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    scope.postMessage({ type: 'error', id, code: e.code ?? 'ERROR', message: e.message ?? String(err) });
  }
};
