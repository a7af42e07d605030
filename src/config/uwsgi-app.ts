import path from 'node:path';
import type { ConfigEntry } from './config-entry.js';
import type { Diagnostic } from './diagnostic.js';
import type { OptionValues } from './option-values.js';
import {
  CHDIR,
  COMMAND,
  MAX_WORKER_LIFETIME,
  NOTIFY_SOCKET,
  PROCESSES,
  RELOAD_ON_RSS,
  SOCKET,
  UWSGI_APP,
  UWSGI_APP_BINARY,
  UWSGI_APP_PLUGINS,
  UWSGI_OPTION_NAMES,
  defaultValue,
  findNotApplicable,
  findOption,
  type OptionSpec,
} from './options/index.js';
import type { References } from './references.js';
import { parseVassalSocketAddress } from './socket-address.js';
import { splitAddresses, type HandedOver, type UwsgiBound } from './uwsgi-sockets.js';
import { boolean } from './values.js';

/**
 * A vassal file without `command` that configures uWSGI's own app loading runs as ONE worker: a uWSGI master,
 * started with that same file (never a rewritten copy: `%d`, `%n` and relative includes resolve as they always
 * did) plus command-line overrides. uWSGI keeps its own options (processes, threads, harakiri, ...); the emperor
 * keeps what it does better: it binds the sockets and hands them over, applies uid/gid, owns vacuum, and reloads by
 * rolling one master into the next, stopping the old one with `q` on its master FIFO, which lets the requests in
 * flight finish (SIGINT and SIGTERM kill them). uWSGI runs as a vassal of an emperor (UWSGI_EMPEROR_FD, uWSGI's own
 * protocol): it says when its first worker accepts, logs instead of daemonizing, and ends if the emperor is gone.
 * Pure: decides from the options as read.
 */

/**
 * The options that make a file a uWSGI app: uWSGI's app loaders (python: module ... worker-mount; perl: psgi; ruby:
 * rack, rails; lua; php-*; cgi; mono, jvm; symcall; webdav). A closed list; each is also in the not-applicable
 * table's `app` group, which is what such a file was refused with before.
 */
export const APP_LOADERS: readonly string[] = [
  'module', 'wsgi', 'wsgi-file', 'file', 'eval', 'paste', 'ini-paste', 'ini-paste-logged', 'pecan', 'web3', 'pump',
  'wsgi-lite', 'mount', 'worker-mount', 'psgi', 'rack', 'rails', 'lua', 'php-*', 'cgi', 'mono-app', 'jwsgi', 'ring-app',
  'jvm-main-class', 'symcall', 'webdav-mount',
];

/** Loaders that register apps, so that uWSGI's need-app can tell a master whose app did not load. */
const REGISTERS_APPS = new Set(['module', 'wsgi', 'wsgi-file', 'file', 'eval', 'paste', 'ini-paste', 'ini-paste-logged', 'pecan', 'web3', 'pump', 'wsgi-lite', 'mount', 'psgi', 'rack']);

/** The emperor's uwsgi-app settings (options/uwsgi-app-options.ts). */
export interface UwsgiAppSettings {
  readonly enabled: boolean;
  /** Absolute path of the uWSGI binary. */
  readonly binary: string;
  /** Comma-separated plugins for files that name none; empty for none. */
  readonly plugins: string;
}

export const DEFAULT_UWSGI_APP_SETTINGS: UwsgiAppSettings = Object.freeze({
  enabled: defaultValue(UWSGI_APP),
  binary: defaultValue(UWSGI_APP_BINARY),
  plugins: defaultValue(UWSGI_APP_PLUGINS),
});

/** The emperor's settings from its option values. */
export function uwsgiAppSettings(values: OptionValues): UwsgiAppSettings {
  return Object.freeze({
    enabled: values.get(UWSGI_APP) ?? DEFAULT_UWSGI_APP_SETTINGS.enabled,
    binary: values.get(UWSGI_APP_BINARY) ?? DEFAULT_UWSGI_APP_SETTINGS.binary,
    plugins: values.get(UWSGI_APP_PLUGINS) ?? DEFAULT_UWSGI_APP_SETTINGS.plugins,
  });
}

/** What the emperor adds to the file, and how it looks at the machine, when it starts uWSGI with it. */
export interface UwsgiAppContext {
  readonly settings: UwsgiAppSettings;
  /** vassals-include templates (read before the file, as the reader does). */
  readonly templates: readonly string[];
  /** vassal-set options (after the file). */
  readonly set: readonly (readonly [string, string])[];
  /** The section the file was read from (uWSGI reads [uwsgi] unless told). */
  readonly section: string;
  /** Whether a path exists; for the binary. */
  readonly exists: (path: string) => boolean;
}

/** How a uWSGI app vassal runs, for --check, logs and reload decisions. */
export interface UwsgiAppRun {
  /** The option that made it one (no line: where options sit is not what they mean, see reload-kind.ts). */
  readonly trigger: string;
  /** Options in the file that the emperor applies (uWSGI reads them too, or is told otherwise). */
  readonly emperorTakes: readonly string[];
  /** What uWSGI binds itself, as `key = value`. */
  readonly uwsgiBinds: readonly string[];
  /** Every option as read: a change only uWSGI reads (harakiri, threads) must still roll the master. */
  readonly options: readonly string[];
}

function matches(key: string, names: readonly string[]): boolean {
  return names.some((n) => (n.endsWith('*') ? key.startsWith(n.slice(0, -1)) : key === n));
}

/** The option that makes these entries a uWSGI app (the first loader), or undefined: there is a command, or none. */
export function findUwsgiApp(entries: readonly ConfigEntry[], settings: UwsgiAppSettings = DEFAULT_UWSGI_APP_SETTINGS): ConfigEntry | undefined {
  if (!settings.enabled || entries.some((e) => findOption(e.key) === COMMAND)) return undefined;
  return entries.find((e) => matches(e.key, APP_LOADERS));
}

/** True for an option uWSGI knows (its option list, or the not-applicable table's names and prefixes). */
export function isUwsgiOption(key: string): boolean {
  return UWSGI_OPTION_NAMES.has(key) || findNotApplicable(key) !== undefined;
}

/** Options of the supervisor's table that uWSGI alone reads in a uWSGI app vassal; the emperor leaves them be. */
const UWSGI_OWNS: ReadonlySet<OptionSpec> = new Set<OptionSpec>([PROCESSES, NOTIFY_SOCKET, MAX_WORKER_LIFETIME, RELOAD_ON_RSS]);

/**
 * In a uWSGI app vassal, a key the emperor does not read at all: uWSGI's own options (no "not applicable" note, no
 * "unknown" warning) and the options both know that are uWSGI's alone here (processes: the emperor runs one master;
 * notify-socket: uWSGI's socket path; max-worker-lifetime, reload-on-rss: uWSGI recycles its own workers; pidfile,
 * die-on-term: uWSGI's meaning). A key neither knows is not passed: it is still an unknown option.
 */
export function passedToUwsgi(key: string): boolean {
  const spec = findOption(key);
  if (!spec) return isUwsgiOption(key);
  return UWSGI_OWNS.has(spec) || (spec.scope === 'emperor' && isUwsgiOption(key));
}

/**
 * What each option both sides read means in a uWSGI app vassal, and who applies it. Shown by --check for the
 * options a file has, and in docs; the e2e tests (test/e2e/uwsgi-app.test.ts) prove them against the real binary.
 */
export const SHARED_OPTIONS: Readonly<Record<string, string>> = {
  socket: 'the emperor binds it and hands it over as --socket fd://N (same option name, so the protocol is kept); it stays open across reloads',
  'uwsgi-socket': 'as socket',
  'http-socket': 'as socket, handed over as --http-socket fd://N',
  'chmod-socket': 'applied by the emperor to the sockets it binds, before they listen',
  'chown-socket': 'applied by the emperor to the sockets it binds, before they listen',
  listen: 'the backlog of the sockets the emperor binds (uWSGI also checks it against net.core.somaxconn)',
  vacuum: 'the emperor\'s: it removes the sockets when the vassal stops; uWSGI is told vacuum=false, so an old master never removes what its successor uses',
  uid: 'applied by the emperor before uWSGI starts (uWSGI finds itself that user already and changes nothing)',
  gid: 'applied by the emperor before uWSGI starts',
  'touch-reload': 'the emperor rolls the master when the file is touched (uWSGI also reloads its workers: both are graceful)',
  env: 'set by the emperor and by uWSGI, to the same values',
  chdir: 'uWSGI\'s: it is started in the vassal file\'s directory and changes to chdir itself; relative socket paths are taken from there',
  'worker-reload-mercy': 'uWSGI\'s time for its workers to finish; the emperor SIGKILLs the master\'s process group 5 s after that',
  master: 'the emperor adds --master: the graceful stop needs uWSGI\'s master and its FIFO',
  'master-fifo': 'the emperor\'s FIFO comes first (uWSGI\'s slot 0, from UWSGI_MASTER_FIFO); a master-fifo of the file is slot 1 and later',
  'notify-socket': 'uWSGI\'s own notification socket; readiness comes from uWSGI\'s emperor channel (UWSGI_EMPEROR_FD: 5 when its first worker accepts)',
  daemonize: 'uWSGI\'s: given UWSGI_EMPEROR_FD it logs to that file instead of forking away, as under its own emperor',
  processes: 'uWSGI\'s workers inside the one master the emperor runs',
  'max-worker-lifetime': 'uWSGI\'s: it recycles its own workers',
  'reload-on-rss': 'uWSGI\'s: it recycles its own workers',
  pidfile: 'uWSGI\'s: it writes its master\'s pid (the newest master\'s during a reload)',
  'die-on-term': 'uWSGI\'s; the emperor never sends SIGTERM to uWSGI (q on the master FIFO, SIGINT if that fails)',
  logto: 'uWSGI\'s: it opens the file itself, as the vassal\'s user; the emperor opens no file for it',
  logto2: 'uWSGI\'s, as logto',
  'log-maxsize': 'uWSGI\'s: it rotates its own logto file',
  'log-backupname': 'uWSGI\'s, as log-maxsize',
  'log-reopen': 'uWSGI\'s: it reopens its logto file at its own reloads',
  'logfile-chown': 'uWSGI\'s, for its logto file',
  'logfile-chmod': 'uWSGI\'s, for its logto file',
  'log-date': 'uWSGI\'s: it dates its own lines (the emperor does not date them again)',
  logdate: 'uWSGI\'s, as log-date',
  'touch-logreopen': 'uWSGI\'s: it watches the file itself',
  'touch-logrotate': 'uWSGI\'s: it watches the file itself',
  strict: 'both: unknown options are errors here, and uWSGI exits on options it does not know',
};

/** The options of SHARED_OPTIONS the emperor applies or overrides (--check lists those a file has). */
const EMPEROR_TAKES = new Set(['socket', 'uwsgi-socket', 'http-socket', 'chmod-socket', 'chown-socket', 'listen', 'vacuum', 'uid', 'gid', 'touch-reload', 'master', 'master-fifo']);

export interface UwsgiAppPlan {
  readonly command: readonly string[];
  readonly sockets: readonly HandedOver[];
  readonly uwsgiBound: readonly UwsgiBound[];
  /** Why the vassal cannot roll, when a master binds an address of its own that two masters cannot share. */
  readonly stopFirst: string | undefined;
  readonly run: UwsgiAppRun;
  readonly diagnostics: readonly Diagnostic[];
}

const NEVER_FORK = ['daemonize', 'daemonize2'];

/**
 * The command and sockets of a uWSGI app vassal whose trigger is `trigger`, with the findings only such a vassal
 * has (a missing binary, daemonize, strict against the emperor's own options). `values` are the options the
 * emperor read (readOptions with passedToUwsgi); `file` is the vassal file as named.
 */
export function planUwsgiApp(
  trigger: ConfigEntry,
  input: { entries: readonly ConfigEntry[]; values: OptionValues; references: Pick<References, 'expand'>; file: string; context: UwsgiAppContext },
): UwsgiAppPlan {
  const { entries, values, references, file, context } = input;
  const diagnostics: Diagnostic[] = [];
  const at = (e: ConfigEntry): Pick<Diagnostic, 'file' | 'line' | 'key'> => ({ file: e.file, line: e.line || undefined, key: e.key });
  const absolute = path.resolve(file);
  const base = values.get(CHDIR) ?? path.dirname(absolute);
  const { emperor, uwsgi } = splitAddresses(entries, references, base);

  const { binary } = context.settings;
  if (!path.isAbsolute(binary) || !context.exists(binary)) {
    diagnostics.push({
      severity: 'error',
      ...at(trigger),
      external: true,
      message: `${trigger.key} makes this a uWSGI app, which runs with uWSGI, but ${binary} ${path.isAbsolute(binary) ? 'is not installed' : 'is not an absolute path'}: apt-get install uwsgi-core uwsgi-plugin-python3 (Debian, Ubuntu), or pip install uwsgi and set the emperor's uwsgi-app-binary = /usr/local/bin/uwsgi; or give the vassal a command`,
    });
  }
  for (const e of entries.filter((x) => NEVER_FORK.includes(x.key))) {
    diagnostics.push({ severity: 'note', ...at(e), message: `${e.key}: under the emperor uWSGI logs to ${e.value} instead of forking away, as under its own emperor` });
  }
  const lastStrict = entries.filter((e) => e.key === 'strict').at(-1);
  const strict = lastStrict !== undefined && (lastStrict.bare || (boolean.parse(lastStrict.value, { baseDir: '/' }) as { value?: boolean }).value === true);
  if (strict) {
    for (const e of entries.filter((x) => findOption(x.key) && !isUwsgiOption(x.key))) {
      diagnostics.push({ severity: 'error', ...at(e), message: `${e.key} is the emperor's option, and uWSGI started with strict = true exits on options it does not know; drop strict or this line` });
    }
  }
  for (const e of entries.filter((x) => x.key === 'notification-fd')) {
    diagnostics.push({ severity: 'warning', ...at(e), message: 'notification-fd is ignored in a uWSGI app vassal: uWSGI says it is ready on its emperor channel (UWSGI_EMPEROR_FD)' });
  }
  // uWSGI finds an inherited socket by its address (getsockname), which a systemd:NAME does not say.
  for (const e of entries.filter((x) => findOption(x.key) === SOCKET && isSystemdName(references.expand(x).value.trim()))) {
    diagnostics.push({
      severity: 'error',
      ...at(e),
      message: `${e.key} = ${e.value}: a vassal run as a uWSGI app cannot take a socket by its systemd name (uWSGI knows an inherited socket by its address): write the address of the .socket unit's ListenStream=, and the emperor hands systemd's descriptor over`,
    });
  }
  for (const bound of uwsgi.filter((b) => b.advice)) {
    diagnostics.push({ severity: 'note', ...at(bound.entry), message: `${bound.entry.key} = ${bound.value} is bound by uWSGI itself: the emperor's socket would have another name to uWSGI; ${bound.advice}` });
  }
  const exclusive = uwsgi.find((b) => b.exclusive);
  const stopFirst = exclusive
    ? `${exclusive.entry.key} = ${exclusive.value} (line ${exclusive.entry.line}) is bound by uWSGI itself, and two masters cannot hold it at once`
    : undefined;

  const ownPlugins = entries.some((e) => e.key === 'plugin' || e.key === 'plugins');
  const plugins = context.settings.plugins.trim();
  const command = [
    binary,
    ...(plugins && !ownPlugins ? ['--plugin', plugins] : []),
    ...context.templates.flatMap((t) => ['--ini', t]),
    '--ini',
    context.section === 'uwsgi' ? absolute : `${absolute}:${context.section}`,
    ...context.set.flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    '--master',
    ...(REGISTERS_APPS.has(trigger.key) ? ['--need-app'] : []),
    '--set',
    'vacuum=false',
    ...emperor.flatMap((s, i) => [`--${s.option}`, `fd://${3 + i}`]),
  ];

  const emperorTakes = [...new Set(entries.map((e) => e.key).filter((k) => EMPEROR_TAKES.has(k)))];
  const run: UwsgiAppRun = Object.freeze({
    trigger: trigger.key,
    emperorTakes: Object.freeze(emperorTakes),
    uwsgiBinds: Object.freeze(uwsgi.map((b) => `${b.entry.key} = ${b.value}`)),
    options: Object.freeze(entries.map((e) => `${e.key}${e.bare ? '' : `=${e.value}`}`)),
  });
  const rolls = stopFirst ? `a reload stops the old master first (${stopFirst})` : 'a reload starts a new master and stops the old one with q on its master FIFO once the new one is ready';
  diagnostics.push({
    severity: 'note',
    ...at(trigger),
    message: `runs as a uWSGI app (${trigger.key}): one worker, uWSGI's master, started as ${command.join(' ')}; the emperor takes over ${emperorTakes.length ? emperorTakes.join(', ') : 'no option of the file'}; ${rolls}`,
  });
  return { command: Object.freeze(command), sockets: emperor, uwsgiBound: uwsgi, stopFirst, run, diagnostics };
}

/** Whether a `socket` value is `systemd:NAME` (a socket systemd passes by name) rather than an address. */
function isSystemdName(value: string): boolean {
  const parsed = parseVassalSocketAddress(value, '/');
  return 'kind' in parsed && parsed.kind === 'systemd';
}
