import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { OptionValues } from '../config/option-values.js';
import { createHash } from 'node:crypto';
import { DIE_ON_TERM, EMPEROR, EMPEROR_RELOAD_CONCURRENCY, EMPEROR_TYRANT, PIDFILE, defaultValue } from '../config/options/index.js';
import { Emperor } from '../emperor/emperor.js';
import { removePidfile, writePidfile } from '../runtime/pidfile.js';
import { routeSignals, type SignalCommand } from '../runtime/signals.js';

/**
 * Runs the emperor in the foreground until a stop signal: pidfile, signals, start, then one loop that acts on
 * queued commands. Resolves with the exit code. Throws Error for unusable setup (missing directory).
 */
export async function runEmperor(values: OptionValues, log: Logger): Promise<number> {
  const dirs = values.all(EMPEROR);
  for (const dir of dirs) {
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new Error(`emperor directory ${dir} does not exist or is not a directory`);
  }
  const pidfile = values.get(PIDFILE);

  const queue: SignalCommand[] = [];
  let wake: (() => void) | undefined;
  const unroute = routeSignals({ dieOnTerm: values.get(DIE_ON_TERM) ?? defaultValue(DIE_ON_TERM) }, (command) => {
    queue.push(command);
    wake?.();
  });
  const emperor = new Emperor({
    dirs,
    log,
    tyrant: values.get(EMPEROR_TYRANT) ?? false,
    reloadConcurrency: values.get(EMPEROR_RELOAD_CONCURRENCY) ?? defaultValue(EMPEROR_RELOAD_CONCURRENCY),
    // The same directories mean the same emperor: its restart finds what an earlier, killed run left behind.
    marker: createHash('sha256').update(JSON.stringify([...dirs].sort())).digest('hex').slice(0, 16),
  });
  try {
    if (pidfile) writePidfile(pidfile);
    await emperor.start();
    for (;;) {
      const command = queue.shift() ?? (await new Promise<undefined>((resolve) => (wake = () => resolve(undefined))));
      if (!command) continue;
      log.info({ event: 'emperor.signal', signal: command.signal, command: command.type }, `${command.signal}: ${command.type}`);
      if (command.type === 'stop') break;
      await emperor.sync({ force: true });
    }
  } finally {
    await emperor.stop();
    if (pidfile) removePidfile(pidfile);
    unroute();
  }
  return 0;
}
