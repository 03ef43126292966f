export const DEMO_DIR: string;
export const DEMO_DIST: string;
export function buildDemo(options?: { outDir?: string; logLevel?: 'info' | 'warn' | 'error' | 'silent' }): Promise<string>;
