/**
 * The `supervisor` command: argv -> command -> exit code. The only module that calls process.exit.
 */
import { readFileSync } from 'node:fs';
import type { CliCommand } from './cli/command-line.js';
import { parseControlLine, UsageError } from './cli/control-line.js';
import type { Output } from './cli/inspect-files.js';
import type { EmperorLog } from './logs/emperor-log.js';
import { daemonChannel } from './runtime/daemon-channel.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const stdio: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

/** The running emperor's (or foreground vassal's) log, written out before exit. */
let emperorLog: EmperorLog | undefined;

/** Set when this process is a daemon started by `daemonize`: how it tells its starting command that it is up. */
const daemon = daemonChannel();

async function main(argv: readonly string[]): Promise<number> {
  // The commands to a running emperor are read without the option table, and each command loads only its own
  // modules: `supervisor --status` is run every second by some, and Node's module loading is most of its time.
  const command: CliCommand = parseControlLine(argv) ?? (await import('./cli/command-line.js')).parseCommandLine(argv);
  switch (command.type) {
    case 'help': {
      const { helpText } = await import('./cli/help.js');
      process.stdout.write(helpText(version()));
      return 0;
    }
    case 'version':
      process.stdout.write(`supervisor ${version()}\n`);
      return 0;
    case 'reload': {
      const { reloadByPidfile } = await import('./runtime/control.js');
      const pid = reloadByPidfile(command.pidfile);
      process.stdout.write(`sent SIGHUP to emperor ${pid}\n`);
      return 0;
    }
    case 'reopen-logs': {
      const { reopenLogsByPidfile } = await import('./runtime/control.js');
      const pid = reopenLogsByPidfile(command.pidfile);
      process.stdout.write(`sent SIGUSR2 to emperor ${pid}: it reopens its log files\n`);
      return 0;
    }
    case 'stop': {
      const { stopByPidfile } = await import('./runtime/control.js');
      const pid = await stopByPidfile(command.pidfile, command.timeoutMs);
      process.stdout.write(`emperor ${pid} stopped\n`);
      return 0;
    }
    case 'control': {
      const { runControl } = await import('./cli/control-command.js');
      return runControl(command.action, command.socket, command.json, stdio);
    }
    case 'check':
    case 'show-config': {
      const { inspectConfig } = await import('./cli/config-commands.js');
      return inspectConfig(command, stdio);
    }
    case 'run': {
      // Loaded only to run something: `supervisor --status` starts faster without them.
      const { runConfigured } = await import('./cli/config-commands.js');
      return runConfigured(command, daemon, (log) => (emperorLog = log));
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
