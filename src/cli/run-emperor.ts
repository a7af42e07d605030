import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { OptionValues } from '../config/option-values.js';
import { EMPEROR, PIDFILE } from '../config/options/index.js';
import { NO_DEFAULTS, type VassalDefaults } from '../config/load-vassal.js';
import { Emperor } from '../emperor/emperor.js';
import { removePidfile, writePidfile } from '../runtime/pidfile.js';
import { routeSignals, type SignalCommand } from '../runtime/signals.js';

/**
 * Runs the emperor in the foreground until a stop signal: pidfile, signals, start, then one loop that acts on
 * queued commands. Resolves with the exit code. Throws Error for unusable setup (missing directory).
 */
export async function runEmperor(values: OptionValues, log: Logger, vassalDefaults: VassalDefaults = NO_DEFAULTS): Promise<number> {
  const dirs = values.all(EMPEROR);
  for (const dir of dirs) {
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new Error(`emperor directory ${dir} does not exist or is not a directory`);
  }
  const pidfile = values.get(PIDFILE);

  const queue: SignalCommand[] = [];
  let wake: (() => void) | undefined;
  const unroute = routeSignals({ dieOnTerm: true }, (command) => {
    queue.push(command);
    wake?.();
  });
  const emperor = new Emperor({ dirs, log, vassalDefaults });
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
