// Start-up: a 64×64 dense model's first inference, as the first thing a fresh process does.
export function startupSpec() {
  const n = 64;
  return {
    format: 'simdnn', version: 1,
    layers: [{ inputs: n, units: n, activation: 'relu', weights: Array.from({ length: n * n }, (_, i) => ((i * 37) % 101) / 500 - 0.1), bias: new Array(n).fill(0.01) }],
  };
}

export function firstInference(nn) {
  const model = nn.sequential(startupSpec());
  const y = model.predict(Float32Array.from({ length: 64 }, (_, i) => i / 64), 1);
  model.dispose();
  return y[0];
}
