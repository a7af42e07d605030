import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from 'fastest-levenshtein';
import type { IniEntry } from '../config/ini-lines.js';
import { OPTIONS, type OptionSpec } from '../config/options/index.js';
import { boolean } from '../config/values.js';
import { CONTROL, controlLineCommand, type ControlLineCommand, UsageError } from './control-line.js';

export { type ControlAction, UsageError } from './control-line.js';

/** What the command line asks for. Options become entries, exactly like ini lines, and go through the same table. */
export type CliCommand =
  | ControlLineCommand
  | { readonly type: 'run'; readonly entries: readonly IniEntry[]; readonly positionals: readonly string[] }
  | { readonly type: 'check' | 'show-config'; readonly files: readonly string[]; readonly entries: readonly IniEntry[] };

/** Name used in diagnostics for values given as flags. */
export const COMMAND_LINE = 'command line';

/** uWSGI reads a bare `FILE.ini` argument as `--ini FILE.ini` (also `FILE.ini:section`). */
const INI_ARGUMENT = /\.ini(:[^/]*)?$/;

function flagConfig(): { type: 'string'; multiple: true } {
  // `multiple` for every option: scalars keep the last value, as in an ini file, and we see them in order.
  // Booleans are strings too, so that `--die-on-term=false` works; a bare `--vacuum` is rewritten to `--vacuum=`.
  return { type: 'string', multiple: true };
}

/** Long flags of boolean options, which may stand alone (`--vacuum`) or carry `=false`. */
const BOOLEAN_FLAGS = new Set(OPTIONS.filter((o) => o.type === boolean).flatMap((o) => [o.name, ...(o.aliases ?? [])].map((n) => `--${n}`)));

function buildConfig(): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { ...CONTROL };
  for (const spec of OPTIONS) {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      if (name.length === 1) options[spec.name] = { ...flagConfig(), short: name };
      else options[name] = flagConfig();
    }
  }
  return options;
}

/** Parses argv (without node and script) into a command. Throws UsageError naming the offending flag. */
export function parseCommandLine(argv: readonly string[]): CliCommand {
  const options = buildConfig();
  let parsed: ReturnType<typeof parseArgs>;
  try {
    // A boolean flag takes a value only with "=": the next word is never eaten (`--vacuum app.ini`).
    const args = argv.map((arg) => (BOOLEAN_FLAGS.has(arg) ? `${arg}=` : arg));
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    throw new UsageError(explain(err as Error & { code?: string }, options));
  }
  const values = parsed.values as Record<string, unknown>;
  const control = controlLineCommand(values, parsed.tokens ?? []);
  if (control) return control;
  const inspect = values.check ? 'check' : values['show-config'] ? 'show-config' : undefined;
  const entries: IniEntry[] = [];
  const positionals: string[] = [];
  for (const token of parsed.tokens ?? []) {
    if (token.kind === 'positional') {
      if (!inspect && INI_ARGUMENT.test(token.value)) entries.push({ key: 'ini', value: token.value, bare: false, file: COMMAND_LINE, line: 0 });
      else positionals.push(token.value);
    }
    if (token.kind !== 'option' || token.name in CONTROL) continue;
    const bare = token.value === undefined || (token.value === '' && BOOLEAN_FLAGS.has(token.rawName));
    entries.push({ key: token.name, value: token.value ?? '', bare, file: COMMAND_LINE, line: 0 });
  }
  if (inspect) {
    if (positionals.length === 0) throw new UsageError(`--${inspect} needs the files to read, e.g. supervisor --${inspect} app.ini`);
    if (inspect === 'show-config' && positionals.length > 1) throw new UsageError('--show-config reads one file');
    return { type: inspect, files: positionals, entries };
  }
  return { type: 'run', entries, positionals };
}

function explain(err: Error & { code?: string }, options: Record<string, unknown>): string {
  // Node's messages quote the flag, sometimes with its placeholder: "Option '--pidfile <value>' argument missing".
  const flag = /'(-{1,2}[^' ]+)[^']*'/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) {
    const guess = closest(flag.replace(/^-+/, ''), Object.keys(options));
    return `unknown option ${flag}; did you mean --${guess}? (supervisor --help lists them all)`;
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    return err.message.includes('argument missing') ? `option ${flag} needs a value` : `option ${flag} takes no value`;
  }
  return err.message;
}
