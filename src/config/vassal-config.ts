import path from 'node:path';
import type { ConfigEntry } from './config-entry.js';
import type { Diagnostic } from './diagnostic.js';
import { readOptions, type OptionPlace, type OptionReading } from './option-values.js';
import {
  CHDIR,
  CHMOD_SOCKET,
  CHOWN_SOCKET,
  COMMAND,
  ENV,
  GID,
  HEALTHY_AFTER,
  KILL_MODE,
  LISTEN,
  MAX_WORKER_LIFETIME,
  NOTIFICATION_FD,
  NOTIFY_SOCKET,
  RELOAD_ON_RSS,
  TOUCH_RELOAD,
  UID,
  PROCESSES,
  READY_AFTER,
  READY_TIMEOUT,
  RELOAD_BATCH,
  RESTART_DELAY,
  RESTART_DELAY_MAX,
  SOCKET,
  STOP_SIGNAL,
  VACUUM,
  WORKER_RELOAD_MERCY,
  defaultValue,
  findNotApplicable,
  findOption,
  type OptionSpec,
} from './options/index.js';
import { formatSocketAddress, type SocketAddress } from './socket-address.js';
import type { OwnerSpec } from './values.js';

/** First fd a worker inherits a socket on, as in systemd's SD_LISTEN_FDS_START. */
export const LISTEN_FDS_START = 3;

/** Crash-loop backoff settings (see src/vassal/backoff.ts for how they are applied). */
export interface BackoffPolicy {
  /** Delay before the second consecutive restart, in ms; it doubles with each further failure. */
  readonly initialMs: number;
  /** Cap of the delay, in ms. */
  readonly maxMs: number;
  /** A worker that was ready and stayed up this long (ms) counts as healthy: its slot's failures are forgotten. */
  readonly healthyAfterMs: number;
}

/** One listening socket a vassal asks for, with everything needed to bind it identically again. */
export interface SocketSpec {
  readonly address: SocketAddress;
  /** Canonical address text: registry key and LISTEN_FDNAMES entry. */
  readonly name: string;
  readonly backlog: number;
  /** chmod-socket bits for unix sockets; undefined leaves the umask's result. */
  readonly mode: number | undefined;
  /** chown-socket for unix sockets, as written (names are resolved when binding). */
  readonly owner: OwnerSpec | undefined;
}

/** The parsed, validated, frozen content of one vassal file. Two configs are the same iff `fingerprint` is. */
export interface VassalConfig {
  /** Vassal name: the file name, as uWSGI's emperor names vassals. */
  readonly name: string;
  /** Absolute path of the vassal file. */
  readonly file: string;
  readonly command: readonly string[];
  readonly processes: number;
  readonly sockets: readonly SocketSpec[];
  readonly chdir: string;
  /** Only the variables the vassal sets; the worker's environment is the emperor's plus these. */
  readonly env: Readonly<Record<string, string>>;
  readonly vacuum: boolean;
  readonly stopSignal: NodeJS.Signals;
  /** Who gets the stop signal: the whole process group, or the worker only (systemd's KillMode). */
  readonly killMode: 'control-group' | 'mixed';
  /** worker-reload-mercy, in milliseconds. */
  readonly mercyMs: number;
  /** s6 readiness fd in the worker, or undefined for the uptime fallback. */
  readonly notificationFd: number | undefined;
  /** Fallback readiness: up this long (ms). */
  readonly readyAfterMs: number;
  readonly readyTimeoutMs: number;
  /** systemd-style readiness through NOTIFY_SOCKET. */
  readonly notifySocket: boolean;
  readonly backoff: BackoffPolicy;
  readonly reloadBatch: number;
  /** uid/gid as written (names or numbers); resolved when a generation starts. */
  readonly uid: string | undefined;
  readonly gid: string | undefined;
  /** Recycle a worker after this long up (ms); 0: never. */
  readonly maxLifetimeMs: number;
  /** Recycle a worker above this resident memory (bytes); 0: never. */
  readonly reloadOnRssBytes: number;
  /** Files whose change reloads the vassal. */
  readonly touchReload: readonly string[];
  /**
   * File and line of each option's effective value, by option name (an included file's own, for an option it
   * set), so problems found later (a socket that cannot be bound, a uid tyrant mode refuses) are reported at the
   * file:line where the option was written. Not part of what the config means: a comment added
   * above an option moves these and must not reload anything (see reload-kind.ts).
   */
  readonly lines: Readonly<Record<string, OptionPlace>>;
}

export type VassalConfigResult =
  | { readonly ok: true; readonly config: VassalConfig; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Variables the supervisor itself gives each worker (socket activation, readiness, identity, the run's marker). */
const SUPERVISOR_VARIABLES = new Set(['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES', 'NOTIFY_SOCKET', 'NOTIFICATION_FD']);

/** True for a variable a vassal's `env` may not set: the supervisor's own (it would be overwritten anyway). */
export function isSupervisorVariable(name: string): boolean {
  return SUPERVISOR_VARIABLES.has(name) || name.startsWith('SUPERVISOR_');
}

/** The message for a vassal without `command`; a uWSGI app file gets a hint naming the line that shows it. */
function missingCommand(entries: readonly ConfigEntry[]): string {
  const app = entries.find((e) => findNotApplicable(e.key)?.group.id === 'app');
  const base = 'no "command" option: a vassal needs the program its workers run, e.g. command = node server.js';
  if (!app) return base;
  return `${base}; this file configures uWSGI's own app loading (${app.key} at ${app.file}:${app.line}), which a supervisor does not do: run the app server as the command, e.g. command = uwsgi --plugin python3 --module wsgi:app, or command = gunicorn wsgi:app`;
}

/**
 * Entries of a vassal file -> VassalConfig, or the errors that prevent it. Warnings are returned either way.
 * Pure apart from what `reading.references` reads for @(file): `file` names the vassal and anchors `chdir`.
 */
export function buildVassalConfig(entries: readonly ConfigEntry[], file: string, reading: OptionReading): VassalConfigResult {
  const baseDir = path.dirname(path.resolve(file));
  const { values, diagnostics } = readOptions(entries, 'vassal', reading);
  const command = values.get(COMMAND);
  if (!command && !diagnostics.some((d) => d.severity === 'error' && d.key && findOption(d.key) === COMMAND)) {
    diagnostics.push({ severity: 'error', file, key: 'command', message: missingCommand(entries) });
  }
  if (!command || diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics };

  const backlog = values.get(LISTEN) ?? defaultValue(LISTEN);
  const mode = values.get(CHMOD_SOCKET);
  const owner = values.get(CHOWN_SOCKET);
  const sockets: SocketSpec[] = [];
  for (const address of values.all(SOCKET)) {
    const name = formatSocketAddress(address);
    if (sockets.some((s) => s.name === name)) continue;
    const unix = address.kind === 'unix';
    sockets.push(Object.freeze({ address, name, backlog, mode: unix ? mode : undefined, owner: unix ? owner : undefined }));
  }

  const ms = (spec: OptionSpec<number>): number => Math.round((values.get(spec) ?? defaultValue(spec)) * 1000);
  const firstFreeFd = LISTEN_FDS_START + sockets.length;
  const requestedFd = values.get(NOTIFICATION_FD);
  const notificationFd = requestedFd === 'auto' ? firstFreeFd : requestedFd;
  if (notificationFd !== undefined && notificationFd < firstFreeFd) {
    const source = values.sourceOf(NOTIFICATION_FD);
    diagnostics.push({
      severity: 'error',
      file,
      line: source?.line,
      key: source?.key,
      message: `notification-fd ${notificationFd} collides with the sockets on fd 3..${firstFreeFd - 1}; use ${firstFreeFd} or more, or auto`,
    });
    return { ok: false, diagnostics };
  }
  const notifySocket = values.get(NOTIFY_SOCKET) ?? false;
  if (notifySocket && notificationFd !== undefined) {
    const source = values.sourceOf(NOTIFY_SOCKET);
    diagnostics.push({
      severity: 'error',
      file,
      line: source?.line,
      key: source?.key,
      message: 'notify-socket and notification-fd both set: choose the one readiness protocol the workers speak',
    });
    return { ok: false, diagnostics };
  }

  for (const { value: [key], source } of values.occurrences(ENV)) {
    if (!isSupervisorVariable(key)) continue;
    diagnostics.push({
      severity: 'warning',
      file: source.file,
      line: source.line,
      key: source.key,
      message: `${key} is set by the supervisor for every worker; this env line is ignored`,
    });
  }

  const config: VassalConfig = Object.freeze({
    name: path.basename(file),
    file: path.resolve(file),
    command,
    processes: values.get(PROCESSES) ?? defaultValue(PROCESSES),
    sockets: Object.freeze(sockets),
    chdir: values.get(CHDIR) ?? baseDir,
    env: Object.freeze(Object.fromEntries(values.all(ENV).filter(([key]) => !isSupervisorVariable(key)))),
    vacuum: values.get(VACUUM) ?? false,
    stopSignal: values.get(STOP_SIGNAL) ?? defaultValue(STOP_SIGNAL),
    killMode: values.get(KILL_MODE) ?? defaultValue(KILL_MODE),
    mercyMs: ms(WORKER_RELOAD_MERCY),
    notificationFd,
    readyAfterMs: ms(READY_AFTER),
    readyTimeoutMs: ms(READY_TIMEOUT),
    backoff: Object.freeze({ initialMs: ms(RESTART_DELAY), maxMs: ms(RESTART_DELAY_MAX), healthyAfterMs: ms(HEALTHY_AFTER) }),
    notifySocket,
    reloadBatch: values.get(RELOAD_BATCH) ?? defaultValue(RELOAD_BATCH),
    uid: values.get(UID),
    gid: values.get(GID),
    maxLifetimeMs: ms(MAX_WORKER_LIFETIME),
    reloadOnRssBytes: (values.get(RELOAD_ON_RSS) ?? 0) * 1024 * 1024,
    touchReload: Object.freeze(values.all(TOUCH_RELOAD)),
    lines: Object.freeze(values.lines()),
  });
  return { ok: true, config, diagnostics };
}

/**
 * A finding about option `key` of a config, found after parsing, at the file:line where that option was written
 * (its include's, when an include set it), or at the vassal file when the option was not written at all.
 */
export function optionDiagnostic(config: VassalConfig, key: string, message: string, extra: Partial<Diagnostic> = {}): Diagnostic {
  const place = config.lines[key];
  return { severity: 'error', file: place?.file || config.file, line: place?.line || undefined, key, message, ...extra };
}
