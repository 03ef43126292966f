// The model and inputs every smoke-test app runs (plain JS: bundlers and the test both import it).
export const SPEC = {
  format: 'simdnn',
  version: 1,
  layers: [
    {
      inputs: 3, units: 4, activation: 'relu',
      weights: [[0.5, -1, 0.25], [1, 1, -1], [-0.5, 0.75, 2], [0.1, -0.2, 0.3]],
      bias: [0.1, 0, -0.2, 0.05],
    },
    {
      units: 2, activation: 'softmax',
      weights: [[1, -1, 0.5, 2], [-0.5, 1, 1, -1]],
      bias: [0, 0.1],
    },
  ],
};
export const BATCH = 3;
export const X = [1, 2, 3, -1, 0.5, 2, 0, -2, 1];
