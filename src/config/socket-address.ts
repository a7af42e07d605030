import path from 'node:path';

/**
 * Where a group listens. uWSGI's rule: a value with a `:` that is not a path is `host:port` (an empty host, as in
 * `:3031`, means every IPv4 interface); anything else is a unix socket path.
 */
export type SocketAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/**
 * A vassal's socket may also be one that systemd passed the emperor (a `.socket` unit, LISTEN_FDS), named by its
 * FileDescriptorName= (LISTEN_FDNAMES): `socket = systemd:NAME`. Which address it has is known only once the emperor
 * runs with it (SocketRegistry.adopt); a name it was not given fails the vassal's start, saying which it has.
 */
export interface SystemdSocketName {
  readonly kind: 'systemd';
  /** The FileDescriptorName=: 1 to 255 characters, no control character and no `:` (sd_listen_fds_with_names(3)). */
  readonly name: string;
}

/** What a vassal's `socket` names: an address, or a socket systemd passed by name. */
export type VassalSocketAddress = SocketAddress | SystemdSocketName;

/** The prefix of `socket = systemd:NAME`. */
export const SYSTEMD_PREFIX = 'systemd:';

/** Canonical text of an address: the registry key and the name handed to workers in LISTEN_FDNAMES. */
export function formatSocketAddress(a: VassalSocketAddress): string {
  if (a.kind === 'systemd') return `${SYSTEMD_PREFIX}${a.name}`;
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

/**
 * Parses one vassal `socket` value: an address (parseSocketAddress), or `systemd:NAME`. What uWSGI reads otherwise
 * keeps uWSGI's meaning: a NAME of digits only is `host:port` (the host named systemd), and a value with a `/` is a
 * unix path (`systemd:run/app.sock`, relative); such names cannot be asked for by name.
 */
export function parseVassalSocketAddress(raw: string, baseDir: string): VassalSocketAddress | { readonly reason: string } {
  const rest = raw.slice(SYSTEMD_PREFIX.length);
  if (raw.startsWith(SYSTEMD_PREFIX) && !/^\d+$/.test(rest) && !rest.includes('/')) {
    const name = raw.slice(SYSTEMD_PREFIX.length);
    if (name === '') return { reason: 'systemd:NAME needs the FileDescriptorName= of a socket systemd passes the emperor, got none' };
    // systemd's own rule for FileDescriptorName= (fdname_is_valid): printable ASCII but ':', at most 255 characters.
    if (!/^[\x20-\x7e]{1,255}$/.test(name) || name.includes(':')) {
      return { reason: `systemd:NAME: ${JSON.stringify(name)} is not a FileDescriptorName= (at most 255 printable ASCII characters, no ':')` };
    }
    return { kind: 'systemd', name };
  }
  return parseSocketAddress(raw, baseDir);
}
