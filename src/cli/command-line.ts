import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from 'fastest-levenshtein';
import type { IniEntry } from '../config/ini-lines.js';
import { OPTIONS, type OptionSpec } from '../config/options/index.js';
import { boolean } from '../config/values.js';

/** What the command line asks for. Options become entries, exactly like ini lines, and go through the same table. */
export type CliCommand =
  | { readonly type: 'help' }
  | { readonly type: 'version' }
  | { readonly type: 'reload'; readonly pidfile: string }
  | { readonly type: 'reopen-logs'; readonly pidfile: string }
  | { readonly type: 'stop'; readonly pidfile: string; readonly timeoutMs: number }
  | { readonly type: 'run'; readonly entries: readonly IniEntry[]; readonly positionals: readonly string[] }
  | { readonly type: 'check' | 'show-config'; readonly files: readonly string[]; readonly entries: readonly IniEntry[] }
  | { readonly type: 'control'; readonly action: ControlAction; readonly socket: string | undefined; readonly json: boolean };

/** What `--status`, `--metrics`, `--reload-vassal`, `--restart-worker` and `--logs` ask of a running emperor. */
export type ControlAction =
  | { readonly kind: 'status' }
  | { readonly kind: 'metrics' }
  | { readonly kind: 'reload-vassal'; readonly vassal: string }
  /** `--reload PIDFILE|PID --wait`: every vassal, answered once every roll is done; `emperor` is checked to be the one. */
  | { readonly kind: 'reload-all'; readonly emperor: string }
  | { readonly kind: 'restart-worker'; readonly vassal: string; readonly worker: number; readonly force: boolean }
  | { readonly kind: 'logs'; readonly vassal: string; readonly follow: boolean; readonly lines: number | undefined };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Name used in diagnostics for values given as flags. */
export const COMMAND_LINE = 'command line';

/** Flags that are commands to this invocation, not options of an emperor or vassal. */
const CONTROL = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  reload: { type: 'string' },
  'reopen-logs': { type: 'string' },
  stop: { type: 'string' },
  'stop-timeout': { type: 'string' },
  wait: { type: 'boolean' },
  check: { type: 'boolean' },
  'show-config': { type: 'boolean' },
  // Commands to a running emperor, over its control socket (src/control/).
  status: { type: 'boolean' },
  metrics: { type: 'boolean' },
  'reload-vassal': { type: 'string' },
  'restart-worker': { type: 'string' },
  logs: { type: 'string' },
  follow: { type: 'boolean' },
  lines: { type: 'string' },
  force: { type: 'boolean' },
  // Not uWSGI's `json` (a config in JSON, which stays not applicable): the answer as JSON, for scripts.
  json: { type: 'boolean' },
} as const;

/** The control commands, and the modifiers each takes. */
const CONTROL_ACTIONS = ['status', 'metrics', 'reload-vassal', 'restart-worker', 'logs'] as const;
const MODIFIERS: Readonly<Record<string, readonly string[]>> = { follow: ['logs'], lines: ['logs'], force: ['restart-worker'], json: ['status', 'reload-vassal', 'restart-worker', 'logs'] };

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
  if (values.help) return { type: 'help' };
  if (values.version) return { type: 'version' };
  if (typeof values.reload === 'string') {
    if (values.wait !== true) return { type: 'reload', pidfile: values.reload };
    const { socket, positionals } = controlSocketOption(parsed.tokens ?? [], 'reload');
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} with --reload`);
    return { type: 'control', action: { kind: 'reload-all', emperor: values.reload }, socket, json: values.json === true };
  }
  if (values.wait === true) throw new UsageError('--wait goes with --reload');
  if (typeof values['reopen-logs'] === 'string') return { type: 'reopen-logs', pidfile: values['reopen-logs'] };
  if (typeof values.stop === 'string') {
    const raw = (values['stop-timeout'] as string | undefined) ?? '60';
    const seconds = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new UsageError(`--stop-timeout expects seconds, got ${JSON.stringify(raw)}`);
    return { type: 'stop', pidfile: values.stop, timeoutMs: seconds * 1000 };
  }
  const control = controlCommand(values, parsed.tokens ?? []);
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

/**
 * A control command (`--status [SOCKET]`, `--metrics`, `--reload-vassal NAME`, `--restart-worker NAME:ID [--force]`,
 * `--logs NAME [--follow] [--lines N]`, each with `--control-socket PATH` to name the socket), or undefined when
 * the command line is not one. Throws UsageError for a modifier without its command, or a command with other options.
 */
function controlCommand(values: Record<string, unknown>, tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>): CliCommand | undefined {
  const given = CONTROL_ACTIONS.filter((a) => values[a] !== undefined);
  for (const [modifier, takers] of Object.entries(MODIFIERS)) {
    if (values[modifier] === undefined || given.some((a) => takers.includes(a))) continue;
    if (modifier === 'json') {
      throw new UsageError('--json goes with --status, --reload-vassal, --restart-worker or --logs (uWSGI\'s json option, a config in JSON, is not supported: write an ini file)');
    }
    throw new UsageError(`--${modifier} goes with --${takers.join(' or --')}`);
  }
  if (given.length === 0) return undefined;
  if (given.length > 1) throw new UsageError(`one command at a time: --${given.join(' and --')}`);
  const kind = given[0] as (typeof CONTROL_ACTIONS)[number];
  const found = controlSocketOption(tokens, kind);
  const { positionals } = found;
  let { socket } = found;
  // `supervisor --status /run/supervisor/control.sock`, as `supervisorctl -s` takes it.
  if (kind === 'status' && positionals.length === 1 && socket === undefined) socket = path.resolve(positionals[0] as string);
  else if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} with --${kind}`);
  const json = values.json === true;
  switch (kind) {
    case 'status':
    case 'metrics':
      return { type: 'control', action: { kind }, socket, json };
    case 'reload-vassal':
      return { type: 'control', action: { kind, vassal: values[kind] as string }, socket, json };
    case 'restart-worker': {
      const raw = values[kind] as string;
      const colon = raw.lastIndexOf(':');
      const id = raw.slice(colon + 1);
      if (colon <= 0 || !/^[1-9]\d{0,5}$/.test(id)) throw new UsageError(`--restart-worker expects NAME:ID (a vassal and a worker id from 1), got ${JSON.stringify(raw)}`);
      return { type: 'control', action: { kind, vassal: raw.slice(0, colon), worker: Number(id), force: values.force === true }, socket, json };
    }
    case 'logs': {
      const raw = values.lines as string | undefined;
      if (raw !== undefined && !/^\d{1,5}$/.test(raw)) throw new UsageError(`--lines expects a number of lines, got ${JSON.stringify(raw)}`);
      return { type: 'control', action: { kind, vassal: values[kind] as string, follow: values.follow === true, lines: raw === undefined ? undefined : Number(raw) }, socket, json };
    }
  }
}

/** The `--control-socket PATH` of a command to a running emperor, and its positionals; throws UsageError for any other option. */
function controlSocketOption(tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>, kind: string): { socket: string | undefined; positionals: string[] } {
  let socket: string | undefined;
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option' || token.name in CONTROL) continue;
    if (token.name !== 'control-socket') throw new UsageError(`--${kind} talks to a running emperor: it takes no option --${token.name} (only --control-socket PATH)`);
    if (!token.value) throw new UsageError('option --control-socket needs a value');
    socket = path.resolve(token.value);
  }
  return { socket, positionals };
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
