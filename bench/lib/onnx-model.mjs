// Builds ONNX ModelProto bytes from a workload's own weights (onnx-proto), so ONNX Runtime runs the
// exact same model as every other contender. Opset 20 (Gelu became a standard op in 20).
//   dense / MLP:   Gemm(transB=1) [+ Relu | + Softmax(axis=-1)] per layer
//   elementwise:   one Relu | Sigmoid | Tanh | Gelu | Softmax(axis=-1) node

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const OPSET = 20;
const IR_VERSION = 9; // the IR version that goes with opset 20

function initializer(name, dims, data) {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: raw });
}

function valueInfo(name, dims) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: FLOAT,
        // A string is a symbolic dimension (PyTorch's dynamic_axes: 'batch').
        shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) }),
      }),
    }),
  });
}

function node(opType, input, output, attrs = {}) {
  const attribute = Object.entries(attrs).map(([name, i]) =>
    onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i }));
  return onnx.NodeProto.create({ opType, input, output, attribute, name: `${opType}_${output[0]}` });
}

function encode(graph) {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'simdnn-bench',
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The ONNX model of a workload, with its input/output names and shapes. `batch: 'batch'` makes the
 * batch dimension symbolic, as a PyTorch export with dynamic_axes does (the import timing uses it).
 */
export function buildOnnx(workload, { batch = workload.batch } = {}) {
  if (workload.kind === 'elementwise') {
    const dims = workload.op === 'softmax'
      ? [workload.elements / workload.cols, workload.cols]
      : [workload.elements];
    const opType = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', gelu: 'Gelu', softmax: 'Softmax' }[workload.op];
    const attrs = workload.op === 'softmax' ? { axis: -1 } : {};
    const graph = onnx.GraphProto.create({
      name: workload.id,
      node: [node(opType, ['x'], ['y'], attrs)],
      input: [valueInfo('x', dims)],
      output: [valueInfo('y', dims)],
    });
    return { bytes: encode(graph), input: 'x', output: 'y', dims };
  }
  const { layers } = workload.data();
  const nodes = [], inits = [];
  let h = 'x';
  layers.forEach((l, i) => {
    inits.push(initializer(`W${i}`, [l.units, l.inputs], l.weights), initializer(`b${i}`, [l.units], l.bias));
    const last = i === layers.length - 1;
    const g = l.activation === 'linear' && last ? 'y' : `gemm${i}`;
    nodes.push(node('Gemm', [h, `W${i}`, `b${i}`], [g], { transB: 1 }));
    const out = last ? 'y' : `h${i}`;
    if (l.activation === 'relu') nodes.push(node('Relu', [g], [out]));
    else if (l.activation === 'softmax') nodes.push(node('Softmax', [g], [out], { axis: -1 }));
    else if (l.activation !== 'linear') throw new Error(`no ONNX mapping for activation ${l.activation}`);
    h = out;
  });
  const graph = onnx.GraphProto.create({
    name: workload.id,
    node: nodes,
    initializer: inits,
    input: [valueInfo('x', [batch, layers[0].inputs])],
    output: [valueInfo('y', [batch, layers.at(-1).units])],
  });
  return { bytes: encode(graph), input: 'x', output: 'y', dims: [workload.batch, layers[0].inputs] };
}

const cache = new WeakMap();
/** buildOnnx, memoised per workload (start-up measurements build it before the clock starts). */
export function onnxFor(workload) {
  let m = cache.get(workload);
  if (!m) cache.set(workload, (m = buildOnnx(workload)));
  return m;
}
