// Where the real-browser tests find Chromium, shared by vitest.config.ts (browser projects) and the
// node-only tests that drive Chromium with playwright (bundlers, demo). Never downloads a browser:
// it uses the system Chromium (Debian package `chromium`), or SIMDNN_CHROMIUM when set.
import { existsSync } from 'node:fs';

/** The Chromium executable: env SIMDNN_CHROMIUM, else Debian's /usr/lib/chromium/chromium. */
export const CHROMIUM_PATH = process.env.SIMDNN_CHROMIUM || '/usr/lib/chromium/chromium';

/** Flags for a headless Chromium in a container (no sandbox, no GPU, no background traffic). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether the executable exists. */
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);

/** In CI a missing Chromium is an error, never a silent skip. */
export const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/** Why browser tests cannot run, for messages. */
export const NO_CHROMIUM_MESSAGE =
  `no Chromium at ${CHROMIUM_PATH}: the real-browser tests cannot run. Install one ` +
  `(apt-get install chromium) or point SIMDNN_CHROMIUM at a Chromium/Chrome executable.`;

/** Options for playwright's chromium.launch(). */
export const LAUNCH_OPTIONS = { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true } as const;
