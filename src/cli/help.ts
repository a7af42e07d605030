import { OPTIONS, type OptionSpec } from '../config/options/index.js';

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

/** `supervisor --help`, generated from the option table so it cannot drift from what is parsed. */
export function helpText(version: string): string {
  return [
    `supervisor ${version}: an emperor-style process supervisor`,
    '',
    'Usage:',
    '  supervisor --emperor DIR|GLOB [--pidfile FILE]  run the emperor in the foreground on vassal .ini files (repeatable)',
    '  supervisor --reload PIDFILE                 reload every vassal of a running emperor (SIGHUP)',
    '  supervisor --stop PIDFILE [--stop-timeout S] stop a running emperor and wait until it has exited (default 60 s)',
    '  supervisor --help | --version',
    '',
    'Every option below can be given as --name VALUE, or as "name = value" in the [uwsgi] section of an ini file.',
    '',
    ...section('Emperor options', OPTIONS.filter((o) => o.scope !== 'vassal')),
    '',
    ...section('Vassal options (in vassal files)', OPTIONS.filter((o) => o.scope !== 'emperor')),
    '',
  ].join('\n');
}
