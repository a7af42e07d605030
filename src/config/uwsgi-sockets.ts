import net from 'node:net';
import type { ConfigEntry } from './config-entry.js';
import type { References } from './references.js';
import { formatSocketAddress, parseSocketAddress, type SocketAddress } from './socket-address.js';
import { findOption, SOCKET } from './options/index.js';

/**
 * Which of a uWSGI app vassal's listening addresses the emperor binds and hands over, and which uWSGI binds itself.
 *
 * uWSGI recognises a socket it is given (`--socket fd://3`) as the one a `socket` line names only when the two names
 * are the same string (core/socket.c: uwsgi_socket_is_already_bound, strcmp); otherwise it binds that line itself,
 * and for a unix path it first unlinks whatever is there: the emperor's socket. The name it compares is the line's
 * value as written, and for the inherited socket what getsockname(2) reports: a unix socket's path as given to
 * bind(2), and for TCP `ip:port` (`:port` for 0.0.0.0, `[ip6]:port`). So the emperor binds a unix path under the
 * very name the line gives (relative ones from uWSGI's own directory, see SocketSpec.bindAs), and takes a TCP
 * socket only when the line spells it as uWSGI will name it.
 */

/** A `socket` line the emperor binds: fd 3 + its index, passed as `--<key> fd://N` so uWSGI keeps the line's protocol. */
export interface HandedOver {
  readonly address: SocketAddress;
  /** The long option name, which carries the protocol: socket (the default one), uwsgi-socket, http-socket. */
  readonly option: string;
  /** Set for a unix socket whose line is not its absolute, normalised path. */
  readonly bindAs?: { readonly dir: string; readonly name: string };
}

/** An address uWSGI binds itself, and whether a second master could bind it while the first still runs. */
export interface UwsgiBound {
  readonly entry: ConfigEntry;
  readonly value: string;
  /** TCP/UDP ports and abstract sockets cannot be bound twice; a unix path uWSGI unlinks and binds again. */
  readonly exclusive: boolean;
  /** Why the emperor does not hold it, for a socket line it could have held with another spelling. */
  readonly advice?: string;
}

/**
 * Options that make uWSGI (its master or one of its gateways) bind an address of its own, besides the `socket`
 * lines. From uWSGI 2.0.21's option list: the other protocols' sockets, the stats server, the routers and their
 * stats and subscription servers, shared sockets, UDP servers.
 */
export const UWSGI_BINDS: ReadonlySet<string> = new Set([
  'suwsgi-socket', 'ssl-socket', 'http11-socket', 'https-socket', 'fastcgi-socket', 'fastcgi-nph-socket', 'scgi-socket',
  'scgi-nph-socket', 'raw-socket', 'puwsgi-socket', 'pty-socket', 'shared-socket', 'undeferred-shared-socket',
  'zerg-server', 'stats', 'stats-server', 'http', 'https', 'https2', 'fastrouter', 'rawrouter', 'sslrouter',
  'sslrouter2', 'forkptyrouter', 'forkpty-router', 'forkptyurouter', 'forkpty-urouter', 'tuntap-router', 'http-stats',
  'http-stats-server', 'fastrouter-stats', 'fastrouter-stats-server', 'rawrouter-stats', 'rawrouter-stats-server',
  'sslrouter-stats', 'sslrouter-stats-server', 'forkptyrouter-stats', 'forkptyrouter-stats-server',
  'http-subscription-server', 'fastrouter-subscription-server', 'rawrouter-subscription-server',
  'sslrouter-subscription-server', 'cache-udp-server', 'snmp', 'udp', 'legion', 'notify-socket', 'setns-socket',
]);

/** The long name of a `socket` alias as uWSGI takes it on its command line (`s` is only a short flag there). */
function longName(key: string): string {
  return key === 's' ? 'socket' : key;
}

/** How uWSGI names an inherited TCP socket (core/socket.c, uwsgi_add_socket_from_fd). */
export function uwsgiTcpName(host: string, port: number): string {
  if (net.isIPv6(host)) return `[${new URL(`http://[${host}]/`).hostname.slice(1, -1)}]:${port}`;
  return host === '0.0.0.0' ? `:${port}` : `${host}:${port}`;
}

/** True when the address part of a value is a port (TCP/UDP) or an abstract socket: bound once at a time. */
function isExclusive(value: string): boolean {
  const address = value.split(/[,\s]/)[0] ?? '';
  if (address.startsWith('=')) return false; // a reference to a shared-socket line, which is judged itself
  return address.startsWith('@') || /:\d+$/.test(address);
}

/**
 * Splits a uWSGI app vassal's addresses: the `socket` lines the emperor binds (in order; duplicates once) and the
 * addresses uWSGI binds. `base` is the directory uWSGI resolves relative paths against: its `chdir`, else the
 * vassal file's directory (where it is started). Lines whose value does not expand or parse are skipped: they
 * are already errors. Pure apart from what `references` reads.
 */
export function splitAddresses(entries: readonly ConfigEntry[], references: Pick<References, 'expand'>, base: string): { emperor: HandedOver[]; uwsgi: UwsgiBound[] } {
  const emperor: HandedOver[] = [];
  const uwsgi: UwsgiBound[] = [];
  for (const entry of entries) {
    const isSocket = findOption(entry.key) === SOCKET;
    if (!isSocket && !UWSGI_BINDS.has(entry.key)) continue;
    const expansion = references.expand(entry);
    const value = expansion.value.trim();
    if (!isSocket) {
      uwsgi.push({ entry, value, exclusive: isExclusive(value) });
      continue;
    }
    if (expansion.problems.length > 0) continue;
    const address = parseSocketAddress(value, base);
    if ('reason' in address) continue;
    if (emperor.some((h) => formatSocketAddress(h.address) === formatSocketAddress(address))) continue;
    if (address.kind === 'unix') {
      const bindAs = value === address.path ? undefined : { dir: base, name: value };
      emperor.push({ address, option: longName(entry.key), ...(bindAs ? { bindAs } : {}) });
      continue;
    }
    // A host name would be bound as the address it resolves to, which uWSGI would name differently.
    const named = net.isIP(address.host) ? uwsgiTcpName(address.host, address.port) : undefined;
    if (named === value) {
      emperor.push({ address, option: longName(entry.key) });
    } else {
      const spelling = named ? `write ${named}, uWSGI's own name for it,` : 'write it as ip:port (:port for every interface)';
      uwsgi.push({ entry, value, exclusive: true, advice: `${spelling} and the emperor holds it across reloads` });
    }
  }
  return { emperor, uwsgi };
}

