import { LANGUAGE_OPTIONS, OPTIONS, type OptionSpec } from '../config/options/index.js';

function flags(spec: OptionSpec): string {
  const names = [spec.name, ...(spec.aliases ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
  const value = spec.type.typed && spec.type.name === 'boolean' ? '' : ` ${spec.type.unit ? spec.type.unit.toUpperCase() : 'VALUE'}`;
  return names.join(', ') + value;
}

function section(title: string, specs: readonly OptionSpec[]): string[] {
  const lines = [`${title}:`];
  for (const spec of specs) {
    const extra = [spec.list ? 'repeatable' : '', (spec.default ?? spec.defaultText) !== undefined ? `default: ${spec.default ?? spec.defaultText}` : ''].filter(Boolean).join('; ');
    lines.push(`  ${flags(spec)}`, `      ${spec.doc}${extra ? ` (${extra})` : ''}`);
  }
  return lines;
}

const language = new Set<OptionSpec>(LANGUAGE_OPTIONS);

/** `supervisor --help`, generated from the option table so it cannot drift from what is parsed. */
export function helpText(version: string): string {
  return [
    `supervisor ${version}: an emperor-style process supervisor`,
    '',
    'Usage:',
    '  supervisor --emperor DIR|GLOB [--pidfile FILE]  run the emperor in the foreground on vassal .ini files (repeatable)',
    '  supervisor FILE.ini [--name VALUE]...       run what FILE.ini describes: an emperor if it sets emperor, else that one vassal',
    '  supervisor --check FILE.ini...              report every error, warning and note with file:line; exit 1 on any error',
    '  supervisor --show-config FILE.ini           print the options as read, fully expanded, as an ini file',
    '  supervisor --reload PIDFILE                 reload every vassal of a running emperor (SIGHUP)',
    '  supervisor --reload PIDFILE --wait          the same, and return once every roll is done (exit 1 if one failed)',
    '  supervisor --reopen-logs PIDFILE            reopen the log files of a running emperor, e.g. after logrotate (SIGUSR2)',
    '  supervisor --stop PIDFILE [--stop-timeout S] stop a running emperor and wait until it has exited (default 60 s)',
    '  supervisor --status [SOCKET] [--json]     what runs: one line per vassal (state, workers ready, pids, restarts,',
    '                                              uptime, memory, CPU, last error); exit 3 if anything is not running and ready',
    '  supervisor --metrics                        the same in Prometheus text format',
    '  supervisor --reload-vassal NAME             reload one vassal (a roll); returns when it is done or failed',
    '  supervisor --restart-worker NAME:ID [--force] restart one worker, successor first (--force: stop it now)',
    '  supervisor --logs NAME [--follow] [--lines N] the last lines its workers printed; --follow: then new ones as they come',
    '                                              (these talk to the control socket: default, or --control-socket PATH)',
    '  supervisor --help | --version',
    '',
    'Every option below can be given as --name VALUE, or as "name = value" in the [uwsgi] section of an ini file.',
    '',
    ...section('Emperor options', OPTIONS.filter((o) => o.scope !== 'vassal' && !language.has(o))),
    '',
    ...section('Vassal options (in vassal files)', OPTIONS.filter((o) => o.scope !== 'emperor' && !language.has(o))),
    '',
    ...section('Config language (for, if-*, magic variables and placeholders: docs/options.md)', LANGUAGE_OPTIONS),
    '',
  ].join('\n');
}
