import { parseSocketAddress, type SocketAddress } from '../socket-address.js';
import { account, filePath, type ValueType } from '../values.js';
import { option } from './option-spec.js';

/**
 * An address to serve read-only status on. For metrics-http (ours) every interface must be asked for by name
 * (`0.0.0.0:PORT`, `[::]:PORT`): uWSGI's `:PORT` shorthand for "every interface" is refused, so that no one opens
 * status to the network by omission. emperor-stats is uWSGI's option and keeps uWSGI's meaning of `:PORT` (real
 * emperor files have `emperor-stats-server = :8001`); it is logged as a warning when it listens. `unix` says whether a
 * unix socket path is accepted too.
 */
function statusAddress(unix: boolean): ValueType<SocketAddress> {
  return {
    name: unix ? 'host:port or unix path' : 'host:port',
    typed: true,
    parse(raw, ctx) {
      const shorthand = /^\*?:(\d+)$/.exec(raw);
      if (shorthand && !unix) {
        return { ok: false, reason: `${JSON.stringify(raw)} would listen on every interface: write 127.0.0.1:${shorthand[1]} for this host only, or 0.0.0.0:${shorthand[1]} if every interface is really meant` };
      }
      const address = parseSocketAddress(raw, ctx.baseDir);
      if ('reason' in address) return { ok: false, reason: address.reason };
      if (address.kind === 'unix' && !unix) return { ok: false, reason: `expected host:port such as 127.0.0.1:9101, got ${JSON.stringify(raw)}` };
      return { ok: true, value: address };
    },
  };
}

export const CONTROL_SOCKET = option({
  name: 'control-socket',
  type: filePath,
  scope: 'emperor',
  defaultText: '/run/supervisor/control.sock for root, $XDG_RUNTIME_DIR/supervisor/control.sock otherwise',
  doc: 'Unix socket for supervisor --status and the other control commands (mode 0600, the emperor\'s user; its permissions are the access control). Its directory must be writable only by root or the emperor\'s user. A second emperor of the same user, which cannot have the default, puts its own in its run directory and logs where.',
  uwsgi: 'none (uWSGI has a master FIFO and a stats server; stats is a per-instance option with another protocol)',
});

export const CONTROL_SOCKET_GROUP = option({
  name: 'control-socket-group',
  type: account,
  scope: 'emperor',
  doc: 'Let this group use the control socket too (mode 0660 and this group): its members can read the status and send every command, stop included.',
});

export const EMPEROR_STATS = option({
  name: 'emperor-stats',
  aliases: ['emperor-stats-server'],
  type: statusAddress(true),
  scope: 'emperor',
  doc: 'Serve uWSGI\'s emperor stats JSON (the same keys) on this address: written on connect, then closed; read-only. A unix path gets mode 0600. As in uWSGI, :PORT means every interface; an address other than loopback is logged as a warning.',
  uwsgi: 'emperor-stats (a vassal is a group of workers here: its pid is its first serving worker\'s)',
});

export const METRICS_HTTP = option({
  name: 'metrics-http',
  type: statusAddress(false),
  scope: 'emperor',
  doc: 'Serve /metrics (Prometheus text format) and /status (the JSON snapshot) over HTTP on this address, e.g. 127.0.0.1:9101; read-only: no command is accepted over TCP. Every interface must be written out (0.0.0.0:PORT), and anything but loopback is logged as a warning.',
});

export const CONTROL_OPTIONS = [CONTROL_SOCKET, CONTROL_SOCKET_GROUP, EMPEROR_STATS, METRICS_HTTP] as const;
