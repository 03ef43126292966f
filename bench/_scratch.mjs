import onnxPkg from 'onnx-proto';
const { onnx } = onnxPkg;
const t0 = performance.now();
const K=64,N=64;
const W = new Float32Array(K*N).map(()=>Math.random()-0.5), b=new Float32Array(N).map(()=>Math.random()-0.5);
function tensor(name, dims, data){ return onnx.TensorProto.create({name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(0))}); }
function vi(name, dims){ return onnx.ValueInfoProto.create({name, type: onnx.TypeProto.create({tensorType: onnx.TypeProto.Tensor.create({elemType:1, shape: onnx.TensorShapeProto.create({dim: dims.map(d=> typeof d==='string'? {dimParam:d}:{dimValue:d})})})})}); }
const graph = onnx.GraphProto.create({ name:'g', node:[
  onnx.NodeProto.create({opType:'Gemm', input:['x','W','b'], output:['h'], attribute:[onnx.AttributeProto.create({name:'transB', type: onnx.AttributeProto.AttributeType.INT, i:1})]}),
  onnx.NodeProto.create({opType:'Relu', input:['h'], output:['y']})],
  initializer:[tensor('W',[N,K],W), tensor('b',[N],b)], input:[vi('x',['batch',K])], output:[vi('y',['batch',N])]});
const model = onnx.ModelProto.create({irVersion: 8, opsetImport:[{domain:'', version:20}], graph, producerName:'simdnn-bench'});
const bytes = onnx.ModelProto.encode(model).finish();
console.log('model bytes', bytes.length);
const x = new Float32Array(K).map(()=>Math.random());
const ref = new Float32Array(N); for(let n=0;n<N;n++){let s=b[n];for(let k=0;k<K;k++)s+=W[n*K+k]*x[k]; ref[n]=Math.max(0,s);}
const ortn = await import('onnxruntime-node');
const s = await ortn.InferenceSession.create(bytes, {intraOpNumThreads:1, interOpNumThreads:1});
const r = await s.run({x: new ortn.Tensor('float32', x, [1,K])});
console.log('ort-node', Math.max(...r.y.data.map((v,i)=>Math.abs(v-ref[i]))));
const ortw = await import('onnxruntime-web');
ortw.env.wasm.numThreads=1;
console.log(Object.keys(ortw.env.wasm));
const s2 = await ortw.InferenceSession.create(bytes, {executionProviders:['wasm']});
const r2 = await s2.run({x: new ortw.Tensor('float32', x, [1,K])});
console.log('ort-web', Math.max(...r2.y.data.map((v,i)=>Math.abs(v-ref[i]))), ortw.env.versions);
const tf = await import('@tensorflow/tfjs');
const wasm = await import('@tensorflow/tfjs-backend-wasm');
console.log(Object.keys(wasm));
console.log('elapsed', performance.now()-t0);
