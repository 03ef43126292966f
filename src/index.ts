// Browser / worker / bundler entry. Never imports `node:` modules.
import { browserPlatform } from './platform-browser.js';
import { createRuntime as create, memoisedInit, type InitOptions, type Runtime } from './runtime.js';

export * from './exports.js';

/** Load simdnn (memoised per options; a failed init may be retried). Resolves to the runtime `nn`. */
export const init: (options?: InitOptions) => Promise<Runtime> = memoisedInit(browserPlatform);

/** A new independent runtime with its own memory (not memoised). */
export function createRuntime(options?: InitOptions): Promise<Runtime> {
  return create(browserPlatform, options);
}
