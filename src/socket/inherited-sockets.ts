import { readFileSync, readlinkSync } from 'node:fs';
import { formatSocketAddress, type SocketAddress } from '../config/socket-address.js';

/**
 * Sockets the emperor was started with by systemd (a `supervisor.socket` unit): `LISTEN_FDS` descriptors from fd 3,
 * for this process (`LISTEN_PID`), named by `LISTEN_FDNAMES` (sd_listen_fds(3)). A vassal socket whose address is one
 * of them uses that descriptor instead of binding, so connections queue in systemd's socket while the emperor
 * restarts. Such sockets are systemd's: never closed, vacuumed or removed as stale by the emperor.
 */

/** sd_listen_fds(3): the first inherited descriptor. */
export const SD_LISTEN_FDS_START = 3;

export interface InheritedFd {
  readonly fd: number;
  /** Its LISTEN_FDNAMES entry (systemd's FileDescriptorName=, by default the socket unit's name). */
  readonly fdName: string;
}

/**
 * The descriptors `env` passes to process `pid`, or none when LISTEN_PID names another process (they were meant for
 * a parent that exec'd us without clearing them). `parentMayPass`: the daemonized emperor also accepts LISTEN_PID
 * naming its parent, the starting command, which checked them and handed them on. Throws Error for a malformed
 * LISTEN_FDS.
 */
export function listenFds(env: Readonly<Record<string, string | undefined>>, pid: number, parentPid?: number): InheritedFd[] {
  if (env.LISTEN_FDS === undefined) return [];
  const listenPid = Number(env.LISTEN_PID);
  if (listenPid !== pid && (parentPid === undefined || listenPid !== parentPid)) return [];
  if (!/^\d+$/.test(env.LISTEN_FDS)) throw new Error(`LISTEN_FDS=${JSON.stringify(env.LISTEN_FDS)} is not a number of descriptors`);
  const count = Number(env.LISTEN_FDS);
  if (count > 1024) throw new Error(`LISTEN_FDS=${count}: more descriptors than the emperor accepts (1024)`);
  const names = env.LISTEN_FDNAMES?.split(':') ?? [];
  return Array.from({ length: count }, (_, i) => ({ fd: SD_LISTEN_FDS_START + i, fdName: names[i] || 'unknown' }));
}

/** The kernel's tables of sockets by inode, read once per call of socketAddresses. */
interface SocketTables {
  readonly unix: ReadonlyMap<string, { path: string; listening: boolean }>;
  readonly tcp: ReadonlyMap<string, { address: SocketAddress; listening: boolean }>;
}

// /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path"; Flags has __SO_ACCEPTCON (0x10000) when listening.
const SO_ACCEPTCON = 0x10000;
// /proc/net/tcp{,6}: "sl local_address rem_address st ... inode"; st 0A is LISTEN.
const TCP_LISTEN = '0A';

function readTable(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(1).filter(Boolean);
  } catch {
    return [];
  }
}

/** `0100007F` -> 127.0.0.1; 32 hex digits -> an IPv6 address (each 32-bit word in host, little-endian, order). */
export function kernelAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  // RFC 5952: the longest run of two or more zero groups (the first of equals) becomes "::".
  let best = { at: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`;
}

function readTables(): SocketTables {
  const unix = new Map<string, { path: string; listening: boolean }>();
  for (const line of readTable('/proc/net/unix')) {
    const f = line.trim().split(/\s+/);
    if (f[6] && f[7]) unix.set(f[6], { path: f[7], listening: (parseInt(f[3] ?? '0', 16) & SO_ACCEPTCON) !== 0 });
  }
  const tcp = new Map<string, { address: SocketAddress; listening: boolean }>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readTable(file)) {
      const f = line.trim().split(/\s+/);
      const [host, port] = (f[1] ?? '').split(':');
      if (!host || !port || !f[9]) continue;
      tcp.set(f[9], { address: { kind: 'tcp', host: kernelAddress(host), port: parseInt(port, 16) }, listening: f[3] === TCP_LISTEN });
    }
  }
  return { unix, tcp };
}

export interface InheritedSocket extends InheritedFd {
  readonly address: SocketAddress;
  /** Canonical address text, as a vassal's socket spec names it (formatSocketAddress). */
  readonly name: string;
}

/**
 * What each inherited descriptor is: a listening unix socket (by its path) or TCP socket (by host and port), read
 * from /proc (the descriptor's socket inode, found in the kernel's tables). Throws Error naming the descriptor
 * when it is not a listening socket of those kinds: an emperor cannot use it, and must not start without it.
 */
export function describeInherited(fds: readonly InheritedFd[]): InheritedSocket[] {
  if (fds.length === 0) return [];
  const tables = readTables();
  return fds.map(({ fd, fdName }) => {
    let link: string;
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      throw new Error(`inherited descriptor ${fd} (${fdName}) is not open`);
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (!inode) throw new Error(`inherited descriptor ${fd} (${fdName}) is not a socket (${link})`);
    const unix = tables.unix.get(inode);
    const tcp = tables.tcp.get(inode);
    const found = unix ? { address: { kind: 'unix', path: unix.path } as SocketAddress, listening: unix.listening } : tcp;
    if (!found) throw new Error(`inherited descriptor ${fd} (${fdName}) is neither a unix socket with a path nor a TCP socket`);
    if (!found.listening) throw new Error(`inherited descriptor ${fd} (${fdName}) is a socket that does not listen`);
    return { fd, fdName, address: found.address, name: formatSocketAddress(found.address) };
  });
}
