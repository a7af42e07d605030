import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { VassalConfigResult } from '../config/vassal-config.js';
import { routeSignals, type SignalCommand } from '../runtime/signals.js';
import { closeBindHelpers } from '../socket/bind.js';
import { SocketRegistry } from '../socket/socket-registry.js';
import { Vassal } from '../vassal/vassal.js';
import { StartPriority } from '../worker/start-priority.js';

/**
 * Runs one vassal in the foreground (`supervisor app.ini` without `emperor =`, like `uwsgi --ini app.ini`) until a
 * stop signal. SIGHUP reads the config again (`load`) and rolls the workers to it; a config with errors leaves the
 * running workers as they are. Resolves with the exit code; rejects if the vassal cannot start (a socket in use).
 */
export async function runVassal(load: () => VassalConfigResult, report: (result: VassalConfigResult) => void, log: Logger): Promise<number> {
  const first = load();
  report(first);
  if (!first.ok) return 2;

  const queue: SignalCommand[] = [];
  let wake: (() => void) | undefined;
  const unroute = routeSignals(
    { dieOnTerm: true },
    (command) => {
      queue.push(command);
      wake?.();
    },
    (signal, reason) => log.warn({ event: 'vassal.signal', signal, command: 'ignore' }, `${signal}: ${reason}`),
  );
  let vassal: Vassal | undefined;
  try {
    // A copy, read once: every read of process.env goes through libuv's getenv (about 0.5 ms a worker's plan).
    // Starts counted as the emperor counts them (nothing is lowered): a worker outside a storm runs at once.
    const startPriority = new StartPriority({ nice: 0, stormSize: availableParallelism() });
    vassal = await Vassal.start(first.config, { registry: new SocketRegistry(), log: log.child({ vassal: first.config.name }), baseEnv: { ...process.env }, startPriority });
    for (;;) {
      const command = queue.shift() ?? (await new Promise<undefined>((resolve) => (wake = () => resolve(undefined))));
      if (!command) continue;
      log.info({ event: 'vassal.signal', signal: command.signal, command: command.type }, `${command.signal}: ${command.type}`);
      if (command.type === 'stop') break;
      if (command.type === 'reopen-logs') {
        await vassal.reopenLogs();
        continue;
      }
      if (command.type === 'status') {
        log.info({ event: 'vassal.status', status: vassal.snapshot() }, `vassal ${vassal.name}: status`);
        continue;
      }
      const next = load();
      report(next);
      if (!next.ok) {
        log.error({ event: 'vassal.config-error', vassal: first.config.name }, `vassal ${first.config.name}: config has errors; the running version is left untouched`);
        continue;
      }
      await vassal.update(next.config, { force: true }).catch((err: Error) => {
        log.error({ event: 'vassal.reload-failed', vassal: first.config.name, err: err.message }, `vassal ${first.config.name}: reload failed: ${err.message}`);
      });
    }
  } finally {
    await vassal?.stop();
    closeBindHelpers();
    unroute();
  }
  return 0;
}
