export const APP: string;
export interface Chunk { path: string; inputs: string[]; text: string; bytes: number; gzip: number }
export interface AppBundle {
  files: Array<{ path: string; text: string }>;
  text: string;
  bytes: number;
  gzip: number;
  gzipFiles: number;
  lazy: Chunk[];
  modules: Array<[string, number]>;
  write(): string;
}
export interface BundleOptions {
  root?: string;
  from?: 'src' | 'dist';
  platform?: 'browser' | 'node';
  splitting?: boolean;
  outdir?: string;
  /** Leave out the `// @importers {…}` regions of src/ (what the importers' hooks add up front). */
  withoutImporters?: boolean;
}
export function bundleApp(source?: string, options?: BundleOptions): Promise<AppBundle>;
