import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { OptionValues } from '../config/option-values.js';
import { createHash } from 'node:crypto';
import {
  DIE_ON_TERM,
  EMPEROR,
  EMPEROR_EXTENSION,
  EMPEROR_FREQ,
  EMPEROR_RELOAD_CONCURRENCY,
  EMPEROR_SETTLE,
  EMPEROR_TYRANT,
  EMPEROR_WAIT,
  PIDFILE,
  TOUCH_RELOAD,
  TYRANT_PASS_ENV,
  TYRANT_PRIVILEGED_PORTS,
  defaultValue,
} from '../config/options/index.js';
import { Emperor, type EmperorOptions } from '../emperor/emperor.js';
import { TouchReloadWatch } from '../emperor/touch-reload.js';
import { vassalSource } from '../emperor/vassal-source.js';
import { NO_DEFAULTS, type VassalDefaults } from '../config/load-vassal.js';
import { removePidfile, writePidfile } from '../runtime/pidfile.js';
import { routeSignals, type SignalCommand } from '../runtime/signals.js';

/**
 * Runs the emperor in the foreground until a stop signal: pidfile, signals, start, then one loop that acts on
 * queued commands. Resolves with the exit code. Throws Error for unusable setup (missing directory).
 */
export async function runEmperor(values: OptionValues, log: Logger, vassalDefaults: VassalDefaults = NO_DEFAULTS): Promise<number> {
  const dirs = values.all(EMPEROR);
  // With emperor-wait, a missing directory is watched for until it appears.
  for (const dir of values.get(EMPEROR_WAIT) ? [] : dirs) {
    const st = await stat(vassalSource(dir, []).base).catch(() => undefined);
    if (!st?.isDirectory()) throw new Error(`emperor directory ${dir} does not exist or is not a directory (emperor-wait waits for it)`);
  }
  const pidfile = values.get(PIDFILE);

  // Commands for the one loop below: from signals, and from the emperor's own touch-reload files.
  type Command = SignalCommand | { readonly type: 'reload'; readonly signal?: undefined };
  const queue: Command[] = [];
  let wake: (() => void) | undefined;
  const enqueue = (command: Command): void => {
    queue.push(command);
    wake?.();
  };
  const unroute = routeSignals({ dieOnTerm: values.get(DIE_ON_TERM) ?? defaultValue(DIE_ON_TERM) }, enqueue);
  // The emperor's own touch-reload files: touching one reloads every vassal, as SIGHUP does (uWSGI's meaning).
  const touch = new TouchReloadWatch(() => enqueue({ type: 'reload' }));
  touch.set('emperor', values.all(TOUCH_RELOAD));
  // Last line of defence: a bug that rejects a promise nobody awaits is reported, and the daemon keeps supervising.
  const onInternalError = (reason: unknown): void => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    log.error({ event: 'emperor.internal-error', err: err.stack ?? err.message }, `internal error, kept running: ${err.message}`);
  };
  process.on('unhandledRejection', onInternalError);
  const emperor = new Emperor({
    dirs,
    log,
    vassalDefaults,
    ...watchSettings(values),
    tyrant: values.get(EMPEROR_TYRANT) ?? false,
    tyrantPassEnv: values.all(TYRANT_PASS_ENV),
    tyrantPrivilegedPorts: values.get(TYRANT_PRIVILEGED_PORTS) ?? false,
    reloadConcurrency: values.get(EMPEROR_RELOAD_CONCURRENCY) ?? defaultValue(EMPEROR_RELOAD_CONCURRENCY),
    // The same sources mean the same emperor: its restart finds what an earlier, killed run left behind.
    marker: createHash('sha256').update(JSON.stringify([...dirs].sort())).digest('hex').slice(0, 16),
  });
  try {
    if (pidfile) writePidfile(pidfile);
    await emperor.start();
    for (;;) {
      const command = queue.shift() ?? (await new Promise<undefined>((resolve) => (wake = () => resolve(undefined))));
      if (!command) continue;
      if (command.signal) log.info({ event: 'emperor.signal', signal: command.signal, command: command.type }, `${command.signal}: ${command.type}`);
      else log.info({ event: 'emperor.touched', command: command.type }, 'touch-reload: reloading every vassal');
      if (command.type === 'stop') break;
      await emperor.sync({ force: true });
    }
  } finally {
    await touch.close();
    await emperor.stop();
    if (pidfile) removePidfile(pidfile);
    unroute();
    process.off('unhandledRejection', onInternalError);
  }
  return 0;
}

/** The emperor's file-watching settings (watch-options.ts), in the units EmperorOptions takes. */
function watchSettings(values: OptionValues): Pick<EmperorOptions, 'settleMs' | 'rescanMs' | 'extensions'> {
  const extensions = values.all(EMPEROR_EXTENSION);
  return {
    settleMs: (values.get(EMPEROR_SETTLE) ?? defaultValue(EMPEROR_SETTLE)) * 1000,
    rescanMs: (values.get(EMPEROR_FREQ) ?? defaultValue(EMPEROR_FREQ)) * 1000,
    extensions: extensions.length > 0 ? extensions : [defaultValue(EMPEROR_EXTENSION)],
  };
}
