// Compiles assembly/ into build/: the baseline SIMD128 binary and the relaxed-SIMD (FMA) binary,
// each with its .wat text beside it (read it to check the hot loops). Run by `npm install` (prepare).
import asc from 'assemblyscript/asc';
import { mkdir, writeFile } from 'node:fs/promises';
import { writeGenerated } from './gen-activations.mjs';

await mkdir(new URL('../build/', import.meta.url), { recursive: true });
await writeFile(new URL('../build/.gitignore', import.meta.url), '*\n!.gitignore\n');
// npm pack also reads build/.gitignore, which would drop the binaries package.json "files" lists
// (the packed tarball had no .wasm): an .npmignore in the folder takes precedence for npm.
await writeFile(
  new URL('../build/.npmignore', import.meta.url),
  '# npm pack: publish the .wasm files that package.json "files" lists (build/.gitignore excludes everything)\n',
);
// The two targets build in parallel, one child process each (asc is single-threaded; with two cores
// this halves the install's build step). `node scripts/build-wasm.mjs simd` builds one target here.
const only = process.argv[2];
// The activation dispatch and tables come from assembly/activations.json (once, before the targets).
if (!only) writeGenerated();
if (only) {
  const { error, stderr } = await asc.main(['--config', 'asconfig.json', '--target', only], {});
  if (error) {
    console.error(stderr.toString());
    console.error(`asc failed for target ${only}: ${error.message}`);
    process.exit(1);
  }
} else {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const self = fileURLToPath(import.meta.url);
  const codes = await Promise.all(['simd', 'relaxed'].map((target) => new Promise((resolve) => {
    spawn(process.execPath, [self, target], { stdio: 'inherit' }).on('close', resolve);
  })));
  if (codes.some((c) => c !== 0)) process.exit(1);
}
