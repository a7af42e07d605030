import path from 'node:path';

/**
 * Where a group listens. uWSGI's rule: a value with a `:` that is not a path is `host:port` (an empty host, as in
 * `:3031`, means every IPv4 interface); anything else is a unix socket path.
 */
export type SocketAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** Canonical text of an address: the registry key and the name handed to workers in LISTEN_FDNAMES. */
export function formatSocketAddress(a: SocketAddress): string {
  if (a.kind === 'unix') return a.path;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

// sockaddr_un.sun_path is 108 bytes on Linux, one of them the terminating NUL.
const UNIX_PATH_MAX = 107;
const TCP = /^(\[[0-9a-fA-F:.]+\]|[^:/\s]*):(\d+)$/;

/** Parses one `socket` value; relative unix paths resolve against `baseDir`. */
export function parseSocketAddress(raw: string, baseDir: string): SocketAddress | { readonly reason: string } {
  if (raw === '') return { reason: 'expected a unix socket path or host:port, got an empty value' };
  if (/\s/.test(raw)) {
    return { reason: `a socket address has no spaces, got ${JSON.stringify(raw)}` };
  }
  if (raw.startsWith('@')) return { reason: 'abstract unix sockets (@name) are not supported yet; use a path' };
  const tcp = TCP.exec(raw);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535) return { reason: `port must be between 1 and 65535, got ${tcp[2]}` };
    let host = tcp[1] ?? '';
    if (host.startsWith('[')) host = host.slice(1, -1);
    return { kind: 'tcp', host: host === '' || host === '*' ? '0.0.0.0' : host, port };
  }
  if (raw.includes(':') && !raw.includes('/')) {
    return { reason: `expected host:port with a numeric port, or a unix socket path, got ${JSON.stringify(raw)}` };
  }
  const resolved = path.resolve(baseDir, raw);
  if (Buffer.byteLength(resolved) > UNIX_PATH_MAX) {
    return { reason: `unix socket path ${resolved} is ${Buffer.byteLength(resolved)} bytes; Linux allows at most ${UNIX_PATH_MAX}` };
  }
  return { kind: 'unix', path: resolved };
}
