import fs from 'node:fs';
const seen=[];
for (const f of ['readFileSync','readFile']) { const o=fs[f]; fs[f]=function(p,...a){ if(String(p).endsWith('.wasm')) seen.push(f+':'+p); return o.call(this,p,...a);} }
const o2 = fs.promises.readFile; fs.promises.readFile = function(p,...a){ if(String(p).endsWith('.wasm')) seen.push('p:'+p); return o2.call(this,p,...a);} ;
const tf = await import('@tensorflow/tfjs');
const w = await import('@tensorflow/tfjs-backend-wasm');
w.setWasmPaths(process.cwd()+'/node_modules/@tensorflow/tfjs-backend-wasm/dist/'); w.setThreadsCount(1);
await tf.setBackend('wasm');
console.log(seen);
const ort = await import('onnxruntime-web');
console.log(seen);
