/**
 * The `supervisor` command: argv -> command -> exit code. The only module that calls process.exit.
 */
import { readFileSync } from 'node:fs';
import { parseCommandLine, UsageError } from './cli/command-line.js';
import { helpText } from './cli/help.js';
import { runEmperor } from './cli/run-emperor.js';
import { formatDiagnostic, hasErrors } from './config/diagnostic.js';
import { readOptions } from './config/option-values.js';
import { EMPEROR } from './config/options/index.js';
import { reloadByPidfile, stopByPidfile } from './runtime/control.js';
import { createLogger } from './runtime/logger.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
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
    case 'stop': {
      const pid = await stopByPidfile(command.pidfile, command.timeoutMs);
      process.stdout.write(`emperor ${pid} stopped\n`);
      return 0;
    }
    case 'run': {
      if (command.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(command.positionals[0])}`);
      const { values, diagnostics } = readOptions(command.entries, 'emperor', { baseDir: process.cwd() });
      for (const d of diagnostics) process.stderr.write(`supervisor: ${formatDiagnostic(d)}\n`);
      if (hasErrors(diagnostics)) return 2;
      if (!values.has(EMPEROR)) throw new UsageError(`nothing to run: give --emperor DIR (see supervisor --help)`);
      return runEmperor(values, createLogger());
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`supervisor: ${err.message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
