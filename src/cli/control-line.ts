import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * The commands of the command line that do not run or read a config: help, version, `--reload`/`--stop`/
 * `--reopen-logs` PIDFILE|PID, and the commands to a running emperor over its control socket. They are read here
 * with their own small table, so that `supervisor --status` never loads the option table (some 1,000 uWSGI names) or
 * the config reader: command-line.ts reads everything else, and defers to this module for these commands.
 */

/** What `--status`, `--metrics`, `--reload-vassal`, `--restart-worker` and `--logs` ask of a running emperor. */
export type ControlAction =
  | { readonly kind: 'status' }
  | { readonly kind: 'metrics' }
  | { readonly kind: 'reload-vassal'; readonly vassal: string }
  /** `--reload PIDFILE|PID --wait`: every vassal, answered once every roll is done; `emperor` is checked to be the one. */
  | { readonly kind: 'reload-all'; readonly emperor: string }
  | { readonly kind: 'restart-worker'; readonly vassal: string; readonly worker: number; readonly force: boolean }
  | { readonly kind: 'logs'; readonly vassal: string; readonly follow: boolean; readonly lines: number | undefined };

/** A command of this module's: everything but running or reading a config. */
export type ControlLineCommand =
  | { readonly type: 'help' }
  | { readonly type: 'version' }
  | { readonly type: 'reload'; readonly pidfile: string }
  | { readonly type: 'reopen-logs'; readonly pidfile: string }
  | { readonly type: 'stop'; readonly pidfile: string; readonly timeoutMs: number }
  | { readonly type: 'control'; readonly action: ControlAction; readonly socket: string | undefined; readonly json: boolean };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Flags that are commands to this invocation, not options of an emperor or vassal. */
export const CONTROL = {
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

type Tokens = NonNullable<ReturnType<typeof parseArgs>['tokens']>;

/** The control commands, and the modifiers each takes. */
const CONTROL_ACTIONS = ['status', 'metrics', 'reload-vassal', 'restart-worker', 'logs'] as const;
const MODIFIERS: Readonly<Record<string, readonly string[]>> = { follow: ['logs'], lines: ['logs'], force: ['restart-worker'], json: ['status', 'reload-vassal', 'restart-worker', 'logs'] };

/**
 * The command `argv` (without node and script) gives when it is one of this module's and holds no option of the
 * option table but `--control-socket`; undefined otherwise (then command-line.ts reads it, with the same result
 * for these commands and the errors that name unknown options). Throws UsageError as parseCommandLine does.
 */
export function parseControlLine(argv: readonly string[]): ControlLineCommand | undefined {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...CONTROL, 'control-socket': { type: 'string', multiple: true } }, strict: true, allowPositionals: true, tokens: true });
  } catch {
    return undefined;
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.check || values['show-config']) return undefined;
  return controlLineCommand(values, parsed.tokens ?? []);
}

/**
 * The command that parsed flags (`values` by name, `tokens` in order, as node:util parseArgs gives them) ask for,
 * when it is one of this module's; undefined when they ask to run or read a config. Throws UsageError for a
 * modifier without its command, a command with options it does not take, or a malformed value.
 */
export function controlLineCommand(values: Record<string, unknown>, tokens: Tokens): ControlLineCommand | undefined {
  if (values.help) return { type: 'help' };
  if (values.version) return { type: 'version' };
  if (typeof values.reload === 'string') {
    if (values.wait !== true) return { type: 'reload', pidfile: values.reload };
    const { socket, positionals } = controlSocketOption(tokens, 'reload');
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
  return controlCommand(values, tokens);
}

/**
 * A control command (`--status [SOCKET]`, `--metrics`, `--reload-vassal NAME`, `--restart-worker NAME:ID [--force]`,
 * `--logs NAME [--follow] [--lines N]`, each with `--control-socket PATH` to name the socket), or undefined when
 * the command line is not one. Throws UsageError for a modifier without its command, or a command with other options.
 */
function controlCommand(values: Record<string, unknown>, tokens: Tokens): ControlLineCommand | undefined {
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
function controlSocketOption(tokens: Tokens, kind: string): { socket: string | undefined; positionals: string[] } {
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
