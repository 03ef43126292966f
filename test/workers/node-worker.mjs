// A Node worker thread that owns a simdnn runtime and one model (the same protocol as the Web
// Worker in simdnn.worker.ts). It imports the built package by name ('simdnn' → dist/node.js).
import { parentPort } from 'node:worker_threads';
import { init } from 'simdnn';

let model;
parentPort.on('message', async (data) => {
  const id = data.type === 'predict' ? data.id : -1;
  try {
    if (data.type === 'load') {
      const nn = await init({ simd: data.simd });
      model?.dispose();
      model = nn.sequential(data.spec);
      parentPort.postMessage({ type: 'loaded', binary: nn.features.binary, inputs: model.inputs, outputs: model.outputs });
    } else {
      const y = model.predict(data.x, data.batch);
      parentPort.postMessage({ type: 'result', id, y }, [y.buffer]);
    }
  } catch (err) {
    parentPort.postMessage({ type: 'error', id, code: err.code ?? 'ERROR', message: err.message });
  }
});
