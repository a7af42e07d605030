import path from 'node:path';
import type { ConfigEntry } from './config-entry.js';
import type { Diagnostic } from './diagnostic.js';
import { vassalLogSettings, type VassalLogSettings } from './log-settings.js';
import { readOptions, type OptionPlace, type OptionReading, type OptionValues } from './option-values.js';
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
  STOP_FIFO,
  STOP_FIFO_ENV,
  STOP_SIGNAL,
  UWSGI_OPTION_NAMES,
  VACUUM,
  WORKER_RELOAD_MERCY,
  defaultValue,
  findNotApplicable,
  findOption,
  type OptionSpec,
} from './options/index.js';
import { formatSocketAddress, type VassalSocketAddress } from './socket-address.js';
import type { OwnerSpec } from './values.js';
import {
  APP_LOADERS,
  DEFAULT_UWSGI_APP_SETTINGS,
  findUwsgiApp,
  passedToUwsgi,
  planUwsgiApp,
  type UwsgiAppContext,
  type UwsgiAppPlan,
  type UwsgiAppRun,
  type UwsgiAppSettings,
} from './uwsgi-app.js';

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
  /** `systemd:NAME` until the registry resolves it to the inherited socket of that name (SocketRegistry.lease). */
  readonly address: VassalSocketAddress;
  /** Canonical address text: registry key and LISTEN_FDNAMES entry. */
  readonly name: string;
  readonly backlog: number;
  /** chmod-socket bits for unix sockets; undefined leaves the umask's result. */
  readonly mode: number | undefined;
  /** chown-socket for unix sockets, as written (names are resolved when binding). */
  readonly owner: OwnerSpec | undefined;
  /**
   * A unix socket bound under a relative name from `dir` (`address.path` is the two joined), so that its own name
   * (getsockname) is `name` exactly: uWSGI recognises an inherited socket only by that string (uwsgi-app.ts).
   */
  readonly bindAs?: { readonly dir: string; readonly name: string };
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
  /** The byte that says "ready" on notificationFd: a newline (s6) unless set (uWSGI's emperor protocol: 5). */
  readonly readyByte?: number;
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
  /** stop-fifo: the worker is stopped by writing `text` to a FIFO whose path it gets in the variable `env`. */
  readonly stopFifo?: StopFifoSpec;
  /**
   * Why this vassal cannot roll (an old and a new worker cannot run side by side, e.g. both would bind the same
   * port): a reload then stops the old worker first and starts the new one once it is gone.
   */
  readonly stopFirst?: string;
  /** False: sockets are passed without LISTEN_FDS, the command names them itself (uWSGI's --socket fd://3). */
  readonly socketActivation?: false;
  /** Set when the file configures a uWSGI app and runs with uWSGI as its one worker (uwsgi-app.ts). */
  readonly uwsgiApp?: UwsgiAppRun;
  /** Where the workers' output goes (logto, rotation, format); see src/logs/. */
  readonly log: VassalLogSettings;
  /**
   * File and line of each option's effective value, by option name (an included file's own, for an option it
   * set), so problems found later (a socket that cannot be bound, a uid tyrant mode refuses) are reported at the
   * file:line where the option was written. Not part of what the config means: a comment added
   * above an option moves these and must not reload anything (see reload-kind.ts).
   */
  readonly lines: Readonly<Record<string, OptionPlace>>;
}

/** How a worker is asked to stop through a FIFO it reads (see src/worker/stop-fifo.ts). */
export interface StopFifoSpec {
  /** Written as is, e.g. `q`. */
  readonly text: string;
  /** The variable that gives the worker its FIFO's path. */
  readonly env: string;
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
function missingCommand(entries: readonly ConfigEntry[], settings: UwsgiAppSettings): string {
  const app = entries.find((e) => findNotApplicable(e.key)?.group.id === 'app');
  const base = 'no "command" option: a vassal needs the program its workers run, e.g. command = node server.js';
  if (!app) return base;
  const loader = findUwsgiApp(entries, { ...settings, enabled: true });
  if (loader && !settings.enabled) {
    return `${base}; this file configures a uWSGI app (${loader.key} at ${loader.file}:${loader.line}), which this emperor does not run by itself (uwsgi-app = false): run it as the command, e.g. command = uwsgi --plugin python3 --ini ${path.basename(file(entries))}, or set uwsgi-app = true`;
  }
  return `${base}; this file configures uWSGI's own app loading (${app.key} at ${app.file}:${app.line}) but loads no app (${APP_LOADERS.slice(0, 4).join(', ')}, ...): run the app server as the command, e.g. command = uwsgi --plugin python3 --module wsgi:app, or command = gunicorn wsgi:app`;
}

function file(entries: readonly ConfigEntry[]): string {
  return entries[entries.length - 1]?.file ?? 'app.ini';
}

/** Defaults for callers that give no uWSGI context: the emperor's default settings, no templates, binary not looked for. */
const NO_UWSGI_CONTEXT: UwsgiAppContext = { settings: DEFAULT_UWSGI_APP_SETTINGS, templates: [], set: [], section: 'uwsgi', exists: () => true };

/**
 * Entries of a vassal file -> VassalConfig, or the errors that prevent it. Warnings are returned either way.
 * Pure apart from what `reading.references` reads for @(file) and what `uwsgi.exists` looks at: `file` names the
 * vassal and anchors `chdir`. A file without command that loads a uWSGI app runs with uWSGI (uwsgi-app.ts).
 */
export function buildVassalConfig(entries: readonly ConfigEntry[], file: string, reading: OptionReading, uwsgi: UwsgiAppContext = NO_UWSGI_CONTEXT): VassalConfigResult {
  const baseDir = path.dirname(path.resolve(file));
  const trigger = findUwsgiApp(entries, uwsgi.settings);
  const { values, diagnostics } = readOptions(entries, 'vassal', trigger ? { ...reading, passThrough: passedToUwsgi, names: UWSGI_OPTION_NAMES } : reading);
  const app = trigger && planUwsgiApp(trigger, { entries, values, references: reading.references, file, context: uwsgi });
  if (app) diagnostics.push(...app.diagnostics);
  const command = app ? app.command : values.get(COMMAND);
  if (!command && !diagnostics.some((d) => d.severity === 'error' && d.key && findOption(d.key) === COMMAND)) {
    diagnostics.push({ severity: 'error', file, key: 'command', message: missingCommand(entries, uwsgi.settings) });
  }
  if (!command || diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics };

  const backlog = values.get(LISTEN) ?? defaultValue(LISTEN);
  const mode = values.get(CHMOD_SOCKET);
  const owner = values.get(CHOWN_SOCKET);
  const sockets: SocketSpec[] = [];
  const wanted = app ? app.sockets : values.all(SOCKET).map((address) => ({ address, bindAs: undefined }));
  for (const { address, bindAs } of wanted) {
    const name = formatSocketAddress(address);
    if (sockets.some((s) => s.name === name)) continue;
    // A socket systemd passed keeps them too, so that the vassal can say it ignores them (systemd's SocketMode= rule).
    const file = address.kind === 'unix' || address.kind === 'systemd';
    sockets.push(Object.freeze({ address, name, backlog, mode: file ? mode : undefined, owner: file ? owner : undefined, ...(bindAs ? { bindAs } : {}) }));
  }

  const ms = (spec: OptionSpec<number>): number => Math.round((values.get(spec) ?? defaultValue(spec)) * 1000);
  const firstFreeFd = LISTEN_FDS_START + sockets.length;
  // uWSGI says READY=1 on NOTIFY_SOCKET; a notification-fd line in its file was reported and is ignored.
  const requestedFd = app ? undefined : values.get(NOTIFICATION_FD);
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

  const stopText = values.get(STOP_FIFO) ?? (app ? 'q' : undefined);
  const stopFifo = stopText === undefined ? undefined : { text: stopText, env: values.get(STOP_FIFO_ENV) ?? (app ? UWSGI_FIFO_VARIABLE : defaultValue(STOP_FIFO_ENV)) };
  if (stopFifo && stopFifo.env !== defaultValue(STOP_FIFO_ENV) && isSupervisorVariable(stopFifo.env)) {
    const source = values.sourceOf(STOP_FIFO_ENV);
    diagnostics.push({ severity: 'error', file, line: source?.line, key: source?.key, message: `stop-fifo-env = ${stopFifo.env}: the supervisor sets that variable itself; name another one` });
    return { ok: false, diagnostics };
  }

  for (const { value: [key], source } of values.occurrences(ENV)) {
    if (key === stopFifo?.env || (app && key === UWSGI_EMPEROR_FD_VARIABLE)) {
      diagnostics.push({ severity: 'warning', file: source.file, line: source.line, key: source.key, message: `${key} is set by the supervisor (${key === stopFifo?.env ? 'the path of the worker\'s stop FIFO' : 'uWSGI\'s channel to its emperor'}); this env line is ignored` });
      continue;
    }
    if (!isSupervisorVariable(key)) continue;
    diagnostics.push({
      severity: 'warning',
      file: source.file,
      line: source.line,
      key: source.key,
      message: `${key} is set by the supervisor for every worker; this env line is ignored`,
    });
  }

  const log = vassalLogSettings(values, file, diagnostics, app !== undefined);
  if (!log) return { ok: false, diagnostics };

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
    log,
    lines: Object.freeze(values.lines()),
    ...(stopFifo ? { stopFifo: Object.freeze(stopFifo) } : {}),
    ...(app ? uwsgiAppFields(app, values, baseDir, sockets.length) : {}),
  });
  return { ok: true, config, diagnostics };
}

/** UWSGI_* variables are uWSGI options, read before its command line and files: the master FIFO comes first. */
const UWSGI_FIFO_VARIABLE = 'UWSGI_MASTER_FIFO';

/**
 * What differs for a uWSGI app vassal: one worker (uWSGI's master) started in the vassal file's directory (uWSGI
 * applies chdir itself), ready by NOTIFY_SOCKET, stopped with q on its master FIFO and SIGINT to the master alone
 * when that fails (uWSGI 2.0 reloads on SIGTERM), its own workers recycled by itself, sockets given as fd://N.
 */
function uwsgiAppFields(app: UwsgiAppPlan, values: OptionValues, baseDir: string, socketCount: number): Partial<VassalConfig> {
  const emperorFd = LISTEN_FDS_START + socketCount;
  const env = Object.fromEntries(values.all(ENV).filter(([key]) => !isSupervisorVariable(key) && key !== UWSGI_EMPEROR_FD_VARIABLE));
  return {
    processes: 1,
    chdir: baseDir,
    stopSignal: values.get(STOP_SIGNAL) ?? 'SIGINT',
    killMode: values.get(KILL_MODE) ?? 'mixed',
    // uWSGI's own worker-reload-mercy (default 60 s) runs first; the emperor's SIGKILL is for a master that hangs.
    mercyMs: Math.round((values.get(WORKER_RELOAD_MERCY) ?? UWSGI_DEFAULT_MERCY_S) * 1000) + MASTER_GRACE_MS,
    // uWSGI's emperor protocol on the fd after the sockets (UWSGI_EMPEROR_FD): its first worker writes 5 once it
    // accepts requests; daemonize then logs instead of forking, and the master ends itself if the emperor is gone.
    notificationFd: emperorFd,
    readyByte: UWSGI_ACCEPTING,
    notifySocket: false,
    env: Object.freeze({ ...env, [UWSGI_EMPEROR_FD_VARIABLE]: String(emperorFd) }),
    maxLifetimeMs: 0,
    reloadOnRssBytes: 0,
    socketActivation: false,
    uwsgiApp: app.run,
    ...(app.stopFirst ? { stopFirst: app.stopFirst } : {}),
  };
}

const UWSGI_DEFAULT_MERCY_S = 60;
/** uWSGI's vassals talk to their emperor on this fd (core/emperor.c, uwsgi_setup_emperor). */
const UWSGI_EMPEROR_FD_VARIABLE = 'UWSGI_EMPEROR_FD';
/** The byte worker 1 writes to the emperor when it accepts requests (core/uwsgi.c, "emperor-i-am-ready-to-accept"). */
const UWSGI_ACCEPTING = 5;
const MASTER_GRACE_MS = 5000;

/**
 * A finding about option `key` of a config, found after parsing, at the file:line where that option was written
 * (its include's, when an include set it), or at the vassal file when the option was not written at all.
 */
export function optionDiagnostic(config: VassalConfig, key: string, message: string, extra: Partial<Diagnostic> = {}): Diagnostic {
  const place = config.lines[key];
  return { severity: 'error', file: place?.file || config.file, line: place?.line || undefined, key, message, ...extra };
}
