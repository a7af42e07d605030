import { closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { OptionValues } from '../config/option-values.js';
import {
  CONTROL_SOCKET,
  CONTROL_SOCKET_GROUP,
  DIE_ON_TERM,
  EMPEROR,
  EMPEROR_EXTENSION,
  EMPEROR_FREQ,
  EMPEROR_ON_TOUCH,
  EMPEROR_RELOAD_CONCURRENCY,
  EMPEROR_SETTLE,
  EMPEROR_STATS,
  EMPEROR_TYRANT,
  EMPEROR_WAIT,
  GID,
  METRICS_HTTP,
  NICE_UNTIL_READY,
  PIDFILE,
  TOUCH_RELOAD,
  TYRANT_PASS_ENV,
  TYRANT_PRIVILEGED_PORTS,
  UID,
  defaultValue,
} from '../config/options/index.js';
import { startControl, type Control, type ControlSettings } from '../control/start-control.js';
import { statusLine } from '../control/status-line.js';
import { formatStatusTable } from '../control/status-table.js';
import { takeSnapshot } from '../control/take-snapshot.js';
import { Emperor, type EmperorOptions } from '../emperor/emperor.js';
import { TouchReloadWatch } from '../emperor/touch-reload.js';
import { vassalSource } from '../emperor/vassal-source.js';
import { NO_DEFAULTS, type VassalDefaults } from '../config/load-vassal.js';
import { sweepEarlierRuns } from '../emperor/orphan-sweep.js';
import { assertTrustedChain } from '../runtime/exec-chain.js';
import { controlSocketTarget, EmperorLocks, pidfileTarget, sourceTargets, type LockTarget } from '../runtime/emperor-lock.js';
import { resolveCredentials } from '../runtime/accounts.js';
import { removePidfile, writePidfile } from '../runtime/pidfile.js';
import { autogroupRateLimited } from '../runtime/autogroup.js';
import { StartPriority } from '../worker/start-priority.js';
import { newRunId, ownRunRecord } from '../runtime/run-record.js';
import { beginRun } from '../runtime/runtime-dir.js';
import { runtimePlace } from '../runtime/runtime-place.js';
import { runtimeSecret } from '../runtime/runtime-root.js';
import { routeSignals, type SignalCommand } from '../runtime/signals.js';
import { monotonicUsec, notifyTarget, SystemdNotifier } from '../runtime/sd-notify.js';
import { adoptSockets } from '../socket/bind.js';
import { describeInherited, listenFds } from '../socket/inherited-sockets.js';
import type { EmperorLogControl } from '../logs/emperor-log.js';

/** Who asked the command loop for a reload over the control socket, and when to answer: rolls started, or ended. */
interface ReloadReply {
  readonly wait: boolean;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Runs the emperor in the foreground until a stop signal: locks, run directory, orphan sweep, pidfile, signals,
 * start, then one loop that acts on queued commands. Resolves with the exit code. Throws Error for unusable setup
 * (missing directory, unsafe runtime directory), LockConflict when a live emperor already holds the pidfile or
 * watches one of the directories (then nothing has been touched).
 */
/** What the emperor's life looks like from outside: a daemon's starting command, systemd's notify socket. */
export interface EmperorHooks {
  /** Start-up is complete: pidfile written, the sockets of the vassals present listen, the directories are watched. */
  ready?(): void;
  /** This is a daemon: systemd's LISTEN_PID names its starting command, which checked them and handed them on. */
  readonly daemon?: boolean;
}

export async function runEmperor(
  values: OptionValues,
  log: Logger,
  vassalDefaults: VassalDefaults = NO_DEFAULTS,
  logs?: EmperorLogControl,
  hooks: EmperorHooks = {},
): Promise<number> {
  const dirs = values.all(EMPEROR);
  // With emperor-wait, a missing directory is watched for until it appears.
  for (const dir of values.get(EMPEROR_WAIT) ? [] : dirs) {
    const st = await stat(vassalSource(dir, []).base).catch(() => undefined);
    if (!st?.isDirectory()) throw new Error(`emperor directory ${dir} does not exist or is not a directory (emperor-wait waits for it)`);
  }
  await checkDefaultAccount(values);
  const pidfile = values.get(PIDFILE);

  // One emperor per directory and pidfile: the locks come before anything this emperor does.
  for (const skipped of runtimePlace().skipped) log.warn({ event: 'emperor.runtime-dir', skipped }, `runtime directory: passed over ${skipped}`);
  const extensions = vassalExtensions(values);
  const controlSocket = values.get(CONTROL_SOCKET);
  const targets: LockTarget[] = [
    ...(pidfile ? [pidfileTarget(pidfile)] : []),
    ...(controlSocket ? [controlSocketTarget(controlSocket)] : []),
    ...dirs.flatMap((spec) => sourceTargets(spec, vassalSource(spec, extensions).base, extensions)),
  ];
  const locks = await EmperorLocks.acquire(targets, runtimeSecret(), {
    onSquat: (squat) =>
      log.warn(
        { event: 'emperor.lock-squatted', target: squat.target.given, slot: squat.slot, pid: squat.pid, uid: squat.uid },
        `the lock name for ${squat.target.given} (slot ${squat.slot}) is held by pid ${squat.pid ?? '?'} of uid ${squat.uid ?? '?'}, not an emperor of ours: using the next one`,
      ),
    onError: (err) => log.error({ event: 'emperor.lock-error', err: err.message }, `lock socket error (the lock is still held): ${err.message}`),
  });
  // Last line of defence: a bug that rejects a promise nobody awaits, or throws where nobody catches (an 'error'
  // event without a listener, a throw in a timer), is reported, and the daemon keeps supervising.
  const onInternalError = (reason: unknown): void => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    log.error({ event: 'emperor.internal-error', err: err.stack ?? err.message }, `internal error, kept running: ${err.message}`);
  };
  process.on('unhandledRejection', onInternalError);
  process.on('uncaughtException', onInternalError);
  try {
    return await supervise(values, log, vassalDefaults, { dirs, pidfile, keys: locks.keys }, logs, hooks);
  } finally {
    process.off('unhandledRejection', onInternalError);
    process.off('uncaughtException', onInternalError);
    await locks.release();
  }
}

/** Everything after the locks: this run's directory, the sweep of earlier runs, then supervision until stopped. */
async function supervise(
  values: OptionValues,
  log: Logger,
  vassalDefaults: VassalDefaults,
  run: { dirs: readonly string[]; pidfile: string | undefined; keys: readonly string[] },
  logs: EmperorLogControl | undefined,
  hooks: EmperorHooks,
): Promise<number> {
  const { dirs, pidfile } = run;
  // Every worker start runs these as root: a replaceable one would hand root to whoever may replace it.
  assertTrustedChain();
  const runId = newRunId();
  beginRun(runId, ownRunRecord(run.keys));
  const sweep = await sweepEarlierRuns(run.keys);
  const orphans = [...sweep.swept.values()].flat();
  if (orphans.length > 0) {
    log.warn(
      { event: 'emperor.orphans', runs: [...sweep.swept.keys()], orphans },
      `${orphans.length} process(es) left by an earlier run of this emperor: killed them before binding sockets again`,
    );
  }
  if (sweep.kept.length > 0) {
    log.info({ event: 'emperor.runs-kept', runs: sweep.kept }, `${sweep.kept.length} ended run(s) of other emperors still have processes; left for their own emperor`);
  }

  // Commands for the one loop below: from signals, the emperor's own touch-reload files, and the control socket.
  type Command =
    | SignalCommand
    | { readonly type: 'reload' | 'stop'; readonly signal?: undefined; readonly origin: 'touch-reload' | 'control socket'; readonly reply?: ReloadReply };
  const queue: Command[] = [];
  let wake: (() => void) | undefined;
  // Until the first sync is done the loop below does not run: a stop then must not wait for it (a tenant's reader
  // held up for its whole time limit, a vassal's slow bind), so it stops the emperor at once.
  let starting: Emperor | undefined;
  // Any stop asked (a signal, the control socket): from then on the emperor says neither READY=1 nor "up".
  let stopAsked = false;
  // The command loop has ended (stopped, or failed): nothing queued from then on would be done.
  let loopEnded = false;
  const enqueue = (command: Command): void => {
    queue.push(command);
    wake?.();
    if (command.type !== 'stop') return;
    stopAsked = true;
    void starting?.stop();
  };
  const unroute = routeSignals({ dieOnTerm: values.get(DIE_ON_TERM) ?? defaultValue(DIE_ON_TERM) }, enqueue, (signal, reason) =>
    log.warn({ event: 'emperor.signal', signal, command: 'ignore' }, `${signal}: ${reason}`),
  );
  // The emperor's own touch-reload files: touching one reloads every vassal, as SIGHUP does (uWSGI's meaning).
  const touch = new TouchReloadWatch(() => enqueue({ type: 'reload', origin: 'touch-reload' }));
  touch.set('emperor', values.all(TOUCH_RELOAD));
  const emperor = new Emperor({
    dirs,
    log,
    vassalDefaults,
    ...watchSettings(values),
    tyrant: values.get(EMPEROR_TYRANT) ?? false,
    tyrantPassEnv: values.all(TYRANT_PASS_ENV),
    tyrantPrivilegedPorts: values.get(TYRANT_PRIVILEGED_PORTS) ?? false,
    reloadConcurrency: values.get(EMPEROR_RELOAD_CONCURRENCY) ?? defaultValue(EMPEROR_RELOAD_CONCURRENCY),
    startPriority: startPriority(values, log),
    // Workers carry this run's id: a later run of the same emperor finds what this one left behind if it is killed.
    marker: runId,
  });
  const notifier = new SystemdNotifier(notifyTarget(process.env, process.pid), onceEach(log));
  // The control socket's stop command answers once the emperor has stopped.
  let markStopped = (): void => {};
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  let control: Control | undefined;
  // Only the newest SIGHUP's rolls may say READY=1: an older one's ending says nothing about the newer one's.
  let reloads = 0;
  const reopenAll = async (): Promise<void> => {
    await Promise.all([logs?.reopen(), emperor.reopenLogs()]);
  };
  try {
    await adoptInherited(emperor, log, hooks.daemon ?? false);
    if (pidfile) writePidfile(pidfile);
    // Before the vassals start: the control socket is bound under a umask, which must not touch their files.
    control = await startControl(controlSettings(values), {
      emperor,
      log,
      stop: () => {
        enqueue({ type: 'stop', origin: 'control socket' });
        return stopped;
      },
      reopenLogs: reopenAll,
      // Every vassal, from the control socket (`supervisor --reload PID --wait`): the very reload a SIGHUP is, through
      // the same loop (RELOADING=1, log-reopen, the rolls, READY=1), answered once the rolls have started or ended.
      reloadAll: ({ wait }) =>
        stopAsked || loopEnded
          ? Promise.reject(new Error('the emperor is stopping: nothing was reloaded'))
          : new Promise<void>((resolve, reject) => enqueue({ type: 'reload', origin: 'control socket', reply: { wait, resolve, reject } })),
    }, log);
    // A stop asked during the start (a signal, the control socket) stops the emperor at once, and it never says it is up.
    starting = emperor;
    if (stopAsked) void emperor.stop();
    await emperor.start();
    starting = undefined;
    if (!stopAsked) hooks.ready?.();
    const status = (): string => statusLine(emperor.snapshot(), Date.now());
    if (!stopAsked) {
      // The log's READY=1: what a test, or an operator reading the log, waits for before counting on the start-up
      // scans being over (a file that arrives later is found by the watch or a rescan, not by the start).
      const up = status();
      log.info({ event: 'emperor.up' }, `up: ${up}`);
      notifier.send({ READY: 1, STATUS: up });
      notifier.startWatchdog();
      notifier.keepStatus(status);
    }
    for (;;) {
      const command = queue.shift() ?? (await new Promise<undefined>((resolve) => (wake = () => resolve(undefined))));
      if (!command) continue;
      if (command.signal) log.info({ event: 'emperor.signal', signal: command.signal, command: command.type }, `${command.signal}: ${command.type}`);
      else if (command.origin === 'touch-reload') log.info({ event: 'emperor.touched', command: command.type }, 'touch-reload: reloading every vassal');
      if (command.type === 'stop') {
        notifier.send({ STOPPING: 1 });
        // Reloads asked after the stop are not done: their askers hear so (the finally below answers the rest).
        break;
      }
      if (command.type === 'reopen-logs') {
        await reopenAll();
        continue;
      }
      if (command.type === 'status') {
        // uWSGI's habit: SIGUSR1 writes the status to the log. A status that cannot be taken stops nothing.
        await takeSnapshot(emperor).then(
          (snapshot) => log.info({ event: 'emperor.status', snapshot }, formatStatusTable(snapshot).trimEnd()),
          (err: Error) => log.error({ event: 'emperor.status-failed', err: err.message }, `SIGUSR1: no status: ${err.message}`),
        );
        continue;
      }
      notifier.send({ RELOADING: 1, MONOTONIC_USEC: monotonicUsec() });
      await logs?.reloaded();
      // READY=1 once every roll has ended (done or failed): `systemctl reload` returns when the reload is over. Not
      // awaited here: a stop that comes meanwhile must not wait for the rolls (a slow worker's ready-timeout).
      const reload = ++reloads;
      const reply = command.signal ? undefined : command.reply;
      void emperor
        .reload(undefined, { trigger: reply ? 'control' : 'signal', onStarted: () => (reply?.wait === false ? reply.resolve() : undefined) })
        .then(
          () => {
            if (!stopAsked && reload === reloads) notifier.send({ READY: 1, STATUS: status() });
            reply?.resolve();
          },
          (err: Error) => {
            log.error({ event: 'emperor.reload-failed', err: err.message }, `reload: ${err.message}`);
            reply?.reject(err);
          },
        );
    }
  } finally {
    loopEnded = true;
    for (const command of queue.splice(0)) if (!command.signal) command.reply?.reject(new Error('the emperor is stopping: nothing was reloaded'));
    notifier.close();
    await touch.close();
    await emperor.stop();
    if (pidfile) removePidfile(pidfile);
    // The stop command's answer: every vassal stopped, the pidfile gone (the locks go as the process exits).
    markStopped();
    await control?.close();
    emperor.registry.closeInherited();
    unroute();
  }
  return 0;
}

/**
 * The emperor's `uid`/`gid` (the account of every vassal that names none): a name with no entry is a mistake in the
 * emperor's own config, refused now (Error) rather than found later as every such vassal's start failure. A lookup
 * that fails for another reason (a directory service that does not answer) is left to the vassals' retries.
 */
async function checkDefaultAccount(values: OptionValues): Promise<void> {
  const uid = values.get(UID);
  const gid = values.get(GID);
  if (values.get(EMPEROR_TYRANT) || (uid === undefined && gid === undefined)) return;
  try {
    await resolveCredentials(uid, gid);
  } catch (err) {
    const message = (err as Error).message;
    if (/^no such (user|group): /.test(message)) throw new Error(`uid/gid of the emperor (the vassals' default account): ${message}`);
  }
}

/** The control socket and the read-only status servers (control-options.ts). */
function controlSettings(values: OptionValues): ControlSettings {
  return {
    controlSocket: values.get(CONTROL_SOCKET),
    controlSocketGroup: values.get(CONTROL_SOCKET_GROUP),
    emperorStats: values.get(EMPEROR_STATS),
    metricsHttp: values.get(METRICS_HTTP),
  };
}

/** The emperor's file-watching settings (watch-options.ts), in the units EmperorOptions takes. */
function watchSettings(values: OptionValues): Pick<EmperorOptions, 'settleMs' | 'rescanMs' | 'rescanFixed' | 'extensions' | 'onTouch'> {
  return {
    onTouch: values.get(EMPEROR_ON_TOUCH) ?? defaultValue(EMPEROR_ON_TOUCH),
    settleMs: (values.get(EMPEROR_SETTLE) ?? defaultValue(EMPEROR_SETTLE)) * 1000,
    rescanMs: (values.get(EMPEROR_FREQ) ?? defaultValue(EMPEROR_FREQ)) * 1000,
    // Written in the config (uWSGI's poll interval): kept as asked; the default backs off while nothing happens.
    rescanFixed: values.get(EMPEROR_FREQ) !== undefined,
    extensions: vassalExtensions(values),
  };
}

/** The name endings of vassal files (emperor-extension; `.ini` by default). */
function vassalExtensions(values: OptionValues): readonly string[] {
  const extensions = values.all(EMPEROR_EXTENSION);
  return extensions.length > 0 ? extensions : [defaultValue(EMPEROR_EXTENSION)];
}

/**
 * systemd's sockets (LISTEN_FDS, for this process; for a daemon, for its starting command, which checked them):
 * each becomes an emperor-held, close-on-exec descriptor that vassals asking for its address use instead of binding.
 * The originals are closed, and the LISTEN_* variables dropped. Throws Error for a descriptor the emperor cannot use.
 */
async function adoptInherited(emperor: Emperor, log: Logger, daemon: boolean): Promise<void> {
  const fds = listenFds(process.env, process.pid, daemon ? process.ppid : undefined);
  for (const name of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete process.env[name];
  if (fds.length === 0) return;
  const inherited = describeInherited(fds);
  const handles = await adoptSockets(inherited.map((s) => s.fd));
  for (const { fd } of inherited) closeSync(fd);
  emperor.registry.adopt(inherited.map((s, i) => ({ address: s.address, name: s.name, fdName: s.fdName, handle: handles[i]! })));
  log.info(
    { event: 'emperor.inherited', sockets: inherited.map((s) => ({ name: s.name, fdName: s.fdName })) },
    `using ${inherited.length} socket(s) from systemd: ${inherited.map((s) => `${s.name} (${s.fdName})`).join(', ')}`,
  );
}

/** An error reporter that logs each distinct message once (sd_notify failures would repeat at every ping). */
function onceEach(log: Logger): (err: Error) => void {
  const seen = new Set<string>();
  return (err) => {
    if (seen.has(err.message)) return;
    seen.add(err.message);
    log.warn({ event: 'emperor.notify-failed', err: err.message }, `cannot notify systemd: ${err.message}`);
  };
}

/**
 * nice-until-ready as this emperor applies it: 19 by default as root, off otherwise (a process that is not root may
 * lower a priority but never raise it again, so its workers would stay slow for good). A value set for an emperor
 * that is not root is reported and ignored. Off, the storm is still counted (nice 0 lowers nothing): a worker that
 * starts outside a storm is let run at once (worker.ts).
 */
function startPriority(values: OptionValues, log: Logger): StartPriority {
  const root = process.geteuid?.() === 0;
  const nice = values.get(NICE_UNTIL_READY) ?? (root ? 19 : 0);
  if (nice !== 0 && !root) {
    const at = values.sourceOf(NICE_UNTIL_READY);
    log.warn({ event: 'emperor.option-ignored', option: NICE_UNTIL_READY.name }, `${at?.line ? `${at.file}:${at.line}: ` : ''}nice-until-ready = ${nice} ignored: only root may give a worker its priority back once it is ready`);
  } else if (nice !== 0 && autogroupRateLimited()) {
    log.warn(
      { event: 'emperor.nice-until-ready', limited: 'autogroup' },
      'nice-until-ready: this root lacks CAP_SYS_ADMIN, so the kernel takes one autogroup change per 100 ms; most workers of a start storm keep their full weight against the emperor (give the emperor CAP_SYS_ADMIN, or set nice-until-ready = 0)',
    );
  }
  return new StartPriority({ nice: root ? nice : 0, stormSize: availableParallelism() });
}
