# workerd configuration (no wrangler): one ES-module worker, simdnn's browser entry as the module
# `simdnn`, and both binaries as wasm modules. Serve it on loopback only:
#   workerd serve test/engines/workerd.capnp --socket-addr http=127.0.0.1:8787
# node_modules/simdnn is the checkout (run.mjs links it), as in an app that installed simdnn; the
# last four modules are the tests'.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "simdnn", esModule = embed "node_modules/simdnn/dist/index.js"),
    (name = "simdnn-simd.wasm", wasm = embed "node_modules/simdnn/build/simdnn-simd.wasm"),
    (name = "simdnn-relaxed.wasm", wasm = embed "node_modules/simdnn/build/simdnn-relaxed.wasm"),
    (name = "cases.mjs", esModule = embed "cases.mjs"),
    (name = "memory.mjs", esModule = embed "memory.mjs"),
    (name = "smoke.mjs", esModule = embed "smoke.mjs"),
    (name = "startup.mjs", esModule = embed "startup.mjs"),
  ],
  compatibilityDate = "2026-11-01",
);
