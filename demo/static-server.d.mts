export const MIME: Record<string, string>;
export interface StaticServer {
  url: string;
  port: number;
  close(): Promise<void>;
}
export function serveStatic(options: {
  root: string;
  port?: number;
  host?: string;
  headers?: Record<string, string>;
  wasm?: 'serve' | '404' | 'spa';
  spaFallback?: boolean;
}): Promise<StaticServer>;
