import { OPTIONS } from './index.js';
import type { OptionSpec } from './option-spec.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function row(spec: OptionSpec): string {
  const names = [spec.name, ...(spec.aliases ?? [])].map((n) => `\`${n}\``).join(', ');
  const type = spec.type.unit ? `${spec.type.name} (${spec.type.unit})` : spec.type.name;
  const form = [spec.list ? 'list' : 'scalar', spec.required ? 'required' : ''].filter(Boolean).join(', ');
  const bare = spec.bare !== undefined ? `; bare key means \`${spec.bare}\`` : '';
  return `| ${names} | ${cell(type)} | ${form} | ${cell(spec.default ?? spec.defaultText ?? '')} | ${cell(spec.doc)}${cell(bare)} | ${cell(spec.uwsgi ?? '')} |`;
}

function table(specs: readonly OptionSpec[]): string[] {
  return ['| option | type | form | default | what it does | uWSGI |', '|---|---|---|---|---|---|', ...specs.map(row)];
}

/** docs/options.md, generated from the option table (a test keeps the checked-in file equal to this). */
export function optionsMarkdown(): string {
  return [
    '# Options',
    '',
    'Generated from `src/config/options/` by `npm run docs`; do not edit by hand.',
    '',
    'Every option is written `name = value` in the `[uwsgi]` (or `[supervisor]`) section of an ini file, or given',
    'as `--name value` on the command line. A scalar given twice keeps the last value; a list keeps every value, in order.',
    '',
    '## Emperor options',
    '',
    ...table(OPTIONS.filter((o) => o.scope !== 'vassal')),
    '',
    '## Vassal options',
    '',
    ...table(OPTIONS.filter((o) => o.scope !== 'emperor')),
    '',
  ].join('\n');
}
