import type { BuildOptions, Plugin } from 'esbuild';
export const common: BuildOptions;
export const lib: BuildOptions;
export const importersApart: Plugin;
