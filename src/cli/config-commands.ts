/**
 * The commands that read configuration: --check, --show-config, and running an emperor or a single vassal. Loaded
 * only for them: `supervisor --status` and the other control commands start without the config language, the
 * logger and the emperor's modules (about 50 ms of module loading on a 2-core machine).
 */
import type { CliCommand } from './command-line.js';
import { UsageError } from './command-line.js';
import { checkFiles, showConfig, type Output } from './inspect-files.js';
import { firstIniFile, readCommandLineVassal } from '../config/config-file.js';
import { systemHost, type ConfigHost } from '../config/config-host.js';
import { readCommandLine } from '../config/config-reader.js';
import { formatDiagnostic, hasErrors, inReadingOrder, type Diagnostic } from '../config/diagnostic.js';
import { buildEmperorConfig, describesEmperor, type EmperorConfigResult } from '../config/emperor-config.js';
import type { IniEntry } from '../config/ini-lines.js';
import { NO_DEFAULTS, type VassalDefaults } from '../config/load-vassal.js';
import { logFileSettings } from '../config/log-settings.js';
import { DAEMONIZE, GID, LOGFILE_CHOWN, LOGTO, UID } from '../config/options/index.js';
import { References } from '../config/references.js';
import { EmperorLog, emperorLogOwner } from '../logs/emperor-log.js';
import type { DaemonChannel } from '../runtime/daemon-channel.js';
import { startDaemon } from '../runtime/daemonize.js';
import { logDiagnostics } from '../runtime/logger.js';
import { listenFds } from '../socket/inherited-sockets.js';

function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const d of inReadingOrder(diagnostics)) process.stderr.write(`supervisor: ${formatDiagnostic(d)}\n`);
}

/** The emperor that command-line entries (flags and the files they name) describe. */
function readEmperor(entries: readonly IniEntry[], host: ConfigHost): { read: ReturnType<typeof readCommandLine>; built: EmperorConfigResult } {
  const read = readCommandLine(entries, host);
  const built = buildEmperorConfig(read.entries, { references: new References(read.entries, host), tested: read.tested, host });
  return { read, built };
}

/** --check and --show-config apply the emperor flags given with them (--vassals-include, --vassal-set) to vassals. */
function flagDefaults(entries: readonly IniEntry[], host: ConfigHost): VassalDefaults | undefined {
  if (entries.length === 0) return NO_DEFAULTS;
  const { read, built } = readEmperor(entries, host);
  printDiagnostics([...read.diagnostics, ...built.diagnostics]);
  return built.ok && !hasErrors(read.diagnostics) ? built.config.vassalDefaults : undefined;
}

/**
 * `daemonize = FILE`: starts this same command line again as the daemon, and returns when it is up (exit 0) or has
 * failed (exit 1, its reason on stderr). systemd's sockets, when they were meant for this process, are handed on.
 */
async function startInBackground(logFile: string): Promise<number> {
  const passFds = listenFds(process.env, process.pid).map((f) => f.fd);
  const result = await startDaemon({ logFile, script: process.argv[1] ?? '', args: process.argv.slice(2), passFds, env: process.env });
  if (!result.ok) {
    process.stderr.write(`supervisor: ${result.message}\n`);
    return 1;
  }
  process.stdout.write(`supervisor: emperor ${result.pid} is up (log: ${logFile})\n`);
  return 0;
}

/** --check FILE... and --show-config FILE: exit code (0, 1 for errors in the files, 2 for errors in the flags). */
export function inspectConfig(command: Extract<CliCommand, { type: 'check' | 'show-config' }>, stdio: Output): number {
  const host = systemHost();
  const defaults = flagDefaults(command.entries, host);
  if (!defaults) return 2;
  return command.type === 'check' ? checkFiles(command.files, host, stdio, defaults) : showConfig(command.files[0]!, host, stdio, defaults);
}

/**
 * Runs the emperor (or a single vassal) the command line describes; resolves with its exit code. `keepLog` receives
 * the log that the caller must write out before exiting. Throws UsageError for a command line that runs nothing.
 */
export async function runConfigured(
  command: Extract<CliCommand, { type: 'run' }>,
  daemon: DaemonChannel | undefined,
  keepLog: (log: EmperorLog) => void,
): Promise<number> {
  if (command.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(command.positionals[0])} (config files end in .ini; see supervisor --help)`);
  }
  const [{ runEmperor }, { runVassal }] = await Promise.all([import('./run-emperor.js'), import('./run-vassal.js')]);
  const host = systemHost();
  const { read, built } = readEmperor(command.entries, host);
  if (describesEmperor(read.entries)) {
    const diagnostics = [...read.diagnostics, ...built.diagnostics];
    printDiagnostics(diagnostics);
    if (!built.ok || hasErrors(diagnostics)) return 2;
    const values = built.config.values;
    const daemonLog = values.get(DAEMONIZE);
    if (daemonLog !== undefined && !daemon) return startInBackground(daemonLog);
    // daemonize = FILE is also where the emperor logs (unless logto says otherwise).
    const file = logFileSettings(values, values.get(LOGTO) ?? daemonLog);
    const owner = file && (await emperorLogOwner(values.get(LOGFILE_CHOWN) ?? false, values.get(UID), values.get(GID)));
    const emperorLog = new EmperorLog({ file, owner });
    keepLog(emperorLog);
    await emperorLog.ready();
    return runEmperor(values, emperorLog.logger, built.config.vassalDefaults, emperorLog, { ready: () => daemon?.ready(), daemon: daemon !== undefined });
  }
  const file = firstIniFile(command.entries, host);
  if (!file) throw new UsageError('nothing to run: give --emperor DIR, or a vassal file (supervisor app.ini); see supervisor --help');
  const emperorLog = new EmperorLog();
  keepLog(emperorLog);
  const log = emperorLog.logger;
  let first = true;
  return runVassal(
    () => readCommandLineVassal(command.entries, file, host),
    (result) => {
      if (first) printDiagnostics(result.diagnostics);
      else logDiagnostics(log, result.diagnostics);
      first = false;
    },
    log,
  );
}
