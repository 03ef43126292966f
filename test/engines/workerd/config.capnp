# workerd configuration (no wrangler): one ES-module worker, simdnn's browser entry as the module
# `simdnn`, and both binaries as wasm modules. Serve it on loopback only:
#   workerd serve test/engines/workerd/config.capnp --socket-addr http=127.0.0.1:8787
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "simdnn", esModule = embed "../../../dist/index.js"),
    (name = "simdnn-simd.wasm", wasm = embed "../../../build/simdnn-simd.wasm"),
    (name = "simdnn-relaxed.wasm", wasm = embed "../../../build/simdnn-relaxed.wasm"),
    (name = "smoke.mjs", esModule = embed "../smoke.mjs"),
    (name = "startup.mjs", esModule = embed "../startup.mjs"),
  ],
  compatibilityDate = "2026-11-01",
);
