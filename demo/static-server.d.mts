export const MIME: Record<string, string>;
/** The host name of a Host header value (lower case, IPv6 in brackets), or null if it is not one. */
export function hostName(value: string): string | null;
/** The file path an origin-form request-target names (percent-decoded), or null when it is not one. */
export function targetPath(target: string): string | null;
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
  /** Host names accepted besides localhost, 127.0.0.1 and [::1] (any port). */
  allowedHosts?: string[];
}): Promise<StaticServer>;
