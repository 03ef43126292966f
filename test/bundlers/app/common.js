// Runs each named init() in turn, predicts, and writes the outcome into the page as JSON
// (<pre id="out">, body[data-status] = 'done') for the test to read.
import { SPEC, BATCH, X } from './model.js';

export async function run(inits) {
  const results = [];
  for (const [label, load] of inits) {
    try {
      const nn = await load();
      const model = nn.sequential(SPEC);
      const y = model.predict(Float32Array.from(X), BATCH);
      model.dispose();
      results.push({ label, ok: true, binary: nn.features.binary, y: Array.from(y) });
    } catch (err) {
      results.push({ label, ok: false, name: err?.name, code: err?.code, message: String(err?.message ?? err) });
    }
  }
  const out = document.getElementById('out');
  out.textContent = JSON.stringify(results, null, 2);
  document.body.dataset.status = 'done';
}
