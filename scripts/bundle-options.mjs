// The esbuild settings of the library bundles (scripts/bundle.mjs), shared with scripts/size.mjs and
// test/bundlers/size.node-only.test.ts, so that what an application ships is measured with the
// settings the package is built with.

// keepNames: stack traces (the leak warning's creation site) keep readable names such as Runtime.sequential.
export const common = { bundle: true, format: 'esm', target: 'es2022', keepNames: true, legalComments: 'none', logLevel: 'warning' };
// The library entries are minified: V8 compiles the module text at import, and the minified bundle
// imports ~2 ms faster in a fresh Node process (7.1 → 5.2 ms here).
export const lib = { ...common, minify: true };

// The importers (src/io/, reached only through the runtime's dynamic import('./io/load.js') in
// nn.load and friends), the worker pool (src/pool/pool.ts, the runtime's dynamic
// import('./pool/pool.js')) and fit's steps on the pool (src/train/parallel.ts, the model's dynamic
// import('./train/parallel.js')) are bundles of their own, dist/load.js, dist/pool.js and
// dist/parallel.js, fetched on first use, so an application that only builds models from specs
// loads no importer or thread code. The
// library entries stay single files (no shared chunk to list: a hand-written workerd config or a
// <script type=module> names one module). SimdnnError's instanceof works across the copies (see errors.ts).
export const importersApart = {
  name: 'importers-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/io\/load\.js$/ }, () => ({ path: './load.js', external: true }));
    b.onResolve({ filter: /^\.\/pool\/pool\.js$/ }, () => ({ path: './pool.js', external: true }));
    b.onResolve({ filter: /^\.\/train\/parallel\.js$/ }, () => ({ path: './parallel.js', external: true }));
  },
};
