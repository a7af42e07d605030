import { APP_LOADERS, SHARED_OPTIONS } from '../uwsgi-app.js';
import { MAX_CONFIG_FILE_BYTES } from '../config-host.js';
import { MAX_GLOB_NAMES } from '../glob-pattern.js';
import { logicKeywords } from '../logic-blocks.js';
import { MAX_TIMER_SECONDS } from '../values.js';
import { LANGUAGE_OPTIONS } from './language-options.js';
import { NOT_APPLICABLE } from './not-applicable.js';
import { OPTIONS } from './index.js';
import type { OptionSpec } from './option-spec.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (names: readonly string[]): string => names.map((n) => `\`${n}\``).join(', ');

function row(spec: OptionSpec): string {
  const names = code([spec.name, ...(spec.aliases ?? [])]);
  const type = spec.type.unit ? `${spec.type.name} (${spec.type.unit})` : spec.type.name;
  const form = [spec.list ? 'list' : 'scalar', spec.required ? 'required' : ''].filter(Boolean).join(', ');
  const bare = spec.bare !== undefined ? `; bare key means \`${spec.bare}\`` : '';
  return `| ${names} | ${cell(type)} | ${form} | ${cell(spec.default ?? spec.defaultText ?? '')} | ${cell(spec.doc)}${cell(bare)} | ${cell(spec.uwsgi ?? '')} |`;
}

function table(specs: readonly OptionSpec[]): string[] {
  return ['| option | type | form | default | what it does | uWSGI |', '|---|---|---|---|---|---|', ...specs.map(row)];
}

const language = new Set<OptionSpec>(LANGUAGE_OPTIONS);

/** The file language, as the reader implements it (src/config/config-reader.ts, magic-vars.ts, references.ts). */
function languageSection(): string[] {
  const { openers, closers } = logicKeywords();
  return [
    '## The config language',
    '',
    'Files are read the way uWSGI reads them (its docs "Configuration", "ConfigLogic", "ParsingOrder" and `core/ini.c`):',
    '',
    '- A line is trimmed of spaces, tabs and CR. `;` or `#` as its first character makes it a comment; there are no',
    '  inline comments (`socket = :3031 ; nginx` has the value `:3031 ; nginx`, which is an error for a typed option and',
    '  a warning for free text). The key ends at the first `=`; a key without `=` is a bare flag (true for booleans).',
    '- Options come from every `[uwsgi]` (or `[supervisor]`) block of the file, in order; `ini = file.ini:name` reads',
    '  the `[name]` section instead. A file without the section is an error naming the sections it has.',
    '- A list option keeps every value in order; a scalar keeps the last; `%(name)` is the first value of `name`.',
    '- Booleans are false only for `false`/`off`/`no`/`0` (any case) and true for `true`/`on`/`yes`/`1` or a bare key;',
    '  anything else is an error (uWSGI would take `ture` as true). Integers are strict (`4 workers` is an error where',
    '  uWSGI reads 4). Every option\'s unit is in its row below. Durations in seconds may have a fraction (`0.5`) and',
    `  are at most ${MAX_TIMER_SECONDS} s (about 24.8 days), the longest a timer can wait; a longer one is an error.`,
    '- Relative paths resolve against the directory of the top-level file (the vassal file), which is where uWSGI\'s',
    '  emperor runs a vassal; given on the command line, against the current directory.',
    `- Every file a config reads (the vassal file, \`ini =\` includes, \`vassals-include\` templates, \`@(file)\`,`,
    `  \`for-readline\`) must be a regular file of at most ${MAX_CONFIG_FILE_BYTES / 1048576} MiB, counted as read. A FIFO, a device, a`,
    '  socket or a directory is refused at once with file:line, without being opened for reading.',
    '',
    '### Expansion, in uWSGI\'s order',
    '',
    '1. Magic variables, when a file is read, in every line: `%p` (absolute path of the file), `%s` (file name), `%d`',
    '   (its directory, with a trailing `/`), `%e` (extension), `%n` (name without extension), `%c` (name of its',
    '   directory), `%o` (the path as named), `%x` (`file:section`), `%0`..`%9` (components of its directory), `%v`',
    '   (the directory relative paths resolve against), `%h` (hostname), `%k` (CPU cores), `%u`/`%U` (uid/user name),',
    '   `%g`/`%G` (gid/group name), `%t`/`%T` (start time in seconds/microseconds), `%%` (a `%`). `%O %P %S %D %E %N %C',
    '   %X` are the same for the top-level file: the vassal file, also inside its `vassals-include` templates and',
    '   includes. Any other `%` sequence (uWSGI\'s `%V`, `%j`, ...) is an error in an option that is used.',
    '2. `$(NAME)`: the environment variable; `$(NAME:-default)` if unset or empty, `$(NAME-default)` if unset.',
    '3. `@(path)`: the file\'s contents, one trailing newline removed. Other sources (`@(exec://...)`, `@(http://...)`)',
    '   are not supported.',
    '4. `%(name)`: the first value given for `name`, any key (so `project = x` defines `%(project)`) or',
    '   `set-placeholder = name=value`; `%(a + b * 2)` is uWSGI\'s left-to-right placeholder math.',
    '',
    'Steps 2-4 apply to the options that are used. A reference that does not resolve there is an error with file:line;',
    'in an option that is not used (a uWSGI option listed below, an unknown key) it stays as written, as in uWSGI,',
    'where for example `log-format` has `%(status)` variables of its own.',
    '',
    '### Logic blocks',
    '',
    'An opener applies every following line, up to a closer, once per item (`for` loops) or only when its test holds',
    '(`if-*`); `%(_)` in those lines is the item, or the value tested. `else` switches an `if-*` block to the lines',
    'used when the test failed. Blocks do not nest (uWSGI exits on that too); an unclosed block is an error.',
    '',
    `- Openers: ${code(openers)}. \`for\` splits its value at spaces; \`for-readline\` reads a file\'s non-blank lines;`,
    '  `for-glob` expands a glob (sorted, directories with a trailing `/`); `for-times = N` counts 1..N (at most 10000).',
    `  A loop has at most 10000 items; \`for-glob\` stops, with an error, past that or past ${MAX_GLOB_NAMES} directory entries.`,
    '  `if-env`/`if-opt` take `NAME` or `NAME=value`; `if-exists`/`if-file`/`if-dir` a path. `if-plugin` is always false',
    '  and `if-reload` too: there are no uWSGI plugins here, and every read of a file is a fresh start.',
    '  `if-hostname-match` is refused: use `if-hostname` (a regular expression from a file could run for ever).',
    `- Closers: ${code(closers)}; \`end\` closes either kind. \`else\` goes between an \`if-*\` and its closer.`,
    '',
    '### Config language options',
    '',
    ...table(LANGUAGE_OPTIONS),
  ];
}

function uwsgiAppSection(): string[] {
  return [
    '## uWSGI app vassals',
    '',
    'A vassal file without `command` that has one of these options runs as one worker, a uWSGI master started with',
    `that same file (emperor options \`uwsgi-app\`, \`uwsgi-app-binary\`, \`uwsgi-app-plugins\`): ${code(APP_LOADERS)}.`,
    'Every option uWSGI knows is passed to it unchanged, without a note; a key neither uWSGI nor the supervisor knows',
    'is still an unknown option. The options both read:',
    '',
    '| option | in a uWSGI app vassal |',
    '|---|---|',
    ...Object.entries(SHARED_OPTIONS).map(([name, meaning]) => `| \`${name}\` | ${cell(meaning)} |`),
  ];
}

function notApplicableSection(): string[] {
  return [
    '## uWSGI options that do not apply',
    '',
    'In a vassal with a `command` these are recognised, ignored, and reported once per file as a note with what to do',
    'instead (a uWSGI app vassal passes them to uWSGI). Names ending in `*` stand for every option with that prefix.',
    'Any other unknown key is a warning naming the nearest option (an error with `strict = true`), unless it is used',
    'as a placeholder.',
    '',
    '| uWSGI options | what they are | instead |',
    '|---|---|---|',
    ...NOT_APPLICABLE.map((g) => `| ${cell(code(g.names))} | ${cell(g.title)} | ${cell(g.hint)} |`),
  ];
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
    ...table(OPTIONS.filter((o) => o.scope !== 'vassal' && !language.has(o))),
    '',
    '## Vassal options',
    '',
    ...table(OPTIONS.filter((o) => o.scope !== 'emperor' && !language.has(o))),
    '',
    ...languageSection(),
    '',
    ...uwsgiAppSection(),
    '',
    ...notApplicableSection(),
    '',
  ].join('\n');
}
