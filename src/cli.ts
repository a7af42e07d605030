/**
 * The `supervisor` command: argv -> command -> exit code. The only module that calls process.exit.
 */
import { readFileSync } from 'node:fs';
import { parseCommandLine, UsageError } from './cli/command-line.js';
import { runControl } from './cli/control-command.js';
import { helpText } from './cli/help.js';
import { checkFiles, showConfig, type Output } from './cli/inspect-files.js';
import { firstIniFile, readCommandLineVassal } from './config/config-file.js';
import { systemHost, type ConfigHost } from './config/config-host.js';
import { readCommandLine } from './config/config-reader.js';
import { formatDiagnostic, hasErrors, inReadingOrder, type Diagnostic } from './config/diagnostic.js';
import { buildEmperorConfig, describesEmperor, type EmperorConfigResult } from './config/emperor-config.js';
import type { IniEntry } from './config/ini-lines.js';
import { NO_DEFAULTS, type VassalDefaults } from './config/load-vassal.js';
import { References } from './config/references.js';
import { reloadByPidfile, reopenLogsByPidfile, stopByPidfile } from './runtime/control.js';
import { logDiagnostics } from './runtime/logger.js';
import { logFileSettings } from './config/log-settings.js';
import { DAEMONIZE, GID, LOGFILE_CHOWN, LOGTO, UID } from './config/options/index.js';
import { daemonChannel, startDaemon } from './runtime/daemonize.js';
import { listenFds } from './socket/inherited-sockets.js';
import { EmperorLog, emperorLogOwner } from './logs/emperor-log.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const stdio: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

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

/** The running emperor's (or foreground vassal's) log, written out before exit. */
let emperorLog: EmperorLog | undefined;

/** Set when this process is a daemon started by `daemonize`: how it tells its starting command that it is up. */
const daemon = daemonChannel();

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

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommandLine(argv);
  switch (command.type) {
    case 'help':
      process.stdout.write(helpText(version()));
      return 0;
    case 'version':
      process.stdout.write(`supervisor ${version()}\n`);
      return 0;
    case 'reload': {
      const pid = reloadByPidfile(command.pidfile);
      process.stdout.write(`sent SIGHUP to emperor ${pid}\n`);
      return 0;
    }
    case 'reopen-logs': {
      const pid = reopenLogsByPidfile(command.pidfile);
      process.stdout.write(`sent SIGUSR2 to emperor ${pid}: it reopens its log files\n`);
      return 0;
    }
    case 'stop': {
      const pid = await stopByPidfile(command.pidfile, command.timeoutMs);
      process.stdout.write(`emperor ${pid} stopped\n`);
      return 0;
    }
    case 'control':
      return runControl(command.action, command.socket, command.json, stdio);
    case 'check':
    case 'show-config': {
      const host = systemHost();
      const defaults = flagDefaults(command.entries, host);
      if (!defaults) return 2;
      return command.type === 'check' ? checkFiles(command.files, host, stdio, defaults) : showConfig(command.files[0]!, host, stdio, defaults);
    }
    case 'run': {
      if (command.positionals.length > 0) {
        throw new UsageError(`unexpected argument ${JSON.stringify(command.positionals[0])} (config files end in .ini; see supervisor --help)`);
      }
      // Loaded only to run something: `supervisor --status` starts faster without them.
      const [{ runEmperor }, { runVassal }, { createLogger, logDiagnostics }] = await Promise.all([
        import('./cli/run-emperor.js'),
        import('./cli/run-vassal.js'),
        import('./runtime/logger.js'),
      ]);
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
        emperorLog = new EmperorLog({ file, owner });
        await emperorLog.ready();
        return runEmperor(values, emperorLog.logger, built.config.vassalDefaults, emperorLog, { ready: () => daemon?.ready(), daemon: daemon !== undefined });
      }
      const file = firstIniFile(command.entries, host);
      if (!file) throw new UsageError('nothing to run: give --emperor DIR, or a vassal file (supervisor app.ini); see supervisor --help');
      emperorLog = new EmperorLog();
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
  }
}

/**
 * Exits once stdout and stderr have written everything: into a full pipe (`supervisor --check *.ini | less`), Node
 * queues writes, and process.exit would drop what is queued.
 */
async function exit(code: number): Promise<never> {
  if (code !== 0) daemon?.failed(`the emperor exited with code ${code} before it was up; see its log`);
  // The emperor's records still queued are written out first: a clean stop loses nothing.
  await emperorLog?.close();
  const drained = (stream: NodeJS.WriteStream): Promise<void> =>
    stream.writableLength === 0 || stream.destroyed
      ? Promise.resolve()
      : new Promise((resolve) => {
          // A stream that failed (its reader went away) never drains: exit all the same.
          stream.once('drain', () => resolve());
          stream.once('close', () => resolve());
        });
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code === 0 && outputLost ? 1 : code);
}

// A failed write to stdout or stderr (a closed pipe, a full disk) is an 'error' event: without a listener it would
// crash the process with a stack trace. It is said on stderr if that still works, and the exit status is 1 (as
// coreutils do), since what was asked for was not all written.
let outputLost = false;
process.stdout.on('error', (err: Error) => {
  outputLost = true;
  if (!process.stderr.destroyed) process.stderr.write(`supervisor: cannot write to stdout: ${err.message}\n`);
});
process.stderr.on('error', () => {
  outputLost = true;
});

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (err: Error) => {
    process.stderr.write(`supervisor: ${err.message}\n`);
    daemon?.failed(err.message);
    return exit(err instanceof UsageError ? 2 : 1);
  },
);
