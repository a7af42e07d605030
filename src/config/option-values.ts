import { closest, distance } from 'fastest-levenshtein';
import type { ConfigEntry } from './config-entry.js';
import { addDiagnostic, type Diagnostic } from './diagnostic.js';
import type { IniEntry } from './ini-lines.js';
import { findNotApplicable, findOption, optionNames, STRICT, type OptionScope, type OptionSpec } from './options/index.js';
import type { References } from './references.js';
import { boolean } from './values.js';

/** Where a value came from: an ini line, or the command line (no file). */
export type ValueSource = Pick<IniEntry, 'file' | 'line' | 'key'>;

/** Where an option's value was written: a file and a 1-based line (0 on the command line). */
export interface OptionPlace {
  readonly file: string;
  readonly line: number;
}

export interface Occurrence<T = unknown> {
  readonly value: T;
  readonly source: ValueSource;
}

/** The parsed values of every option that was given, in the order given. Read with the option's spec. */
export class OptionValues {
  readonly #values = new Map<OptionSpec, Occurrence[]>();

  add(spec: OptionSpec, value: unknown, source: ValueSource): void {
    const list = this.#values.get(spec) ?? [];
    list.push({ value, source: { file: source.file, line: source.line, key: source.key } });
    this.#values.set(spec, list);
  }

  /** The last value given (uWSGI's rule for scalar options), or undefined. */
  get<T>(spec: OptionSpec<T>): T | undefined {
    const list = this.#values.get(spec);
    return list?.[list.length - 1]?.value as T | undefined;
  }

  /** Every value given, in order (list options). */
  all<T>(spec: OptionSpec<T>): T[] {
    return (this.#values.get(spec) ?? []).map((o) => o.value as T);
  }

  /** Every value given with where it was given, in order. */
  occurrences<T>(spec: OptionSpec<T>): Occurrence<T>[] {
    return [...(this.#values.get(spec) ?? [])] as Occurrence<T>[];
  }

  has(spec: OptionSpec): boolean {
    return this.#values.has(spec);
  }

  /**
   * Where the effective value of every option given was written, by option name: the file (the vassal file, or an
   * include or template it read) and line (0 for the command line).
   */
  lines(): Record<string, OptionPlace> {
    const lines: Record<string, OptionPlace> = {};
    for (const [spec, list] of this.#values) {
      const source = list[list.length - 1]?.source;
      if (source) lines[spec.name] = Object.freeze({ file: source.file, line: source.line });
    }
    return lines;
  }

  /** Where the effective (last) value came from, for errors found after parsing. */
  sourceOf(spec: OptionSpec): ValueSource | undefined {
    const list = this.#values.get(spec);
    return list?.[list.length - 1]?.source;
  }
}

/** What readOptions needs besides the entries. */
export interface OptionReading {
  /**
   * Expands $(ENV), @(file) and %(name) in the values of the options that are used: a References, or (tyrant mode)
   * the expansions a reader running as the file's owner made, replayed.
   */
  readonly references: Pick<References, 'expand' | 'referencedNames'>;
  /** Names `if-opt` tested: placeholders, like the names used in %(...). */
  readonly tested?: ReadonlySet<string>;
}

const INLINE_COMMENT = /\s[;#]/;
const INLINE_COMMENT_HINT =
  'uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own';
const SHELL_VARIABLE_HINT = '${...} is shell syntax, which is not expanded here; write $(NAME) or $(NAME:-default)';

function inScope(spec: OptionSpec, scope: OptionScope): boolean {
  return spec.scope === 'both' || scope === 'both' || spec.scope === scope;
}

/** `strict = true` anywhere (the last value wins) makes unknown options errors, as uWSGI's strict mode exits. */
function isStrict(entries: readonly ConfigEntry[], references: OptionReading['references']): boolean {
  let strict = false;
  for (const entry of entries) {
    if (findOption(entry.key) !== STRICT) continue;
    const raw = entry.bare ? 'true' : references.expand(entry).value;
    const parsed = boolean.parse(raw, { baseDir: entry.baseDir });
    if (parsed.ok) strict = parsed.value;
  }
  return strict;
}

/**
 * Parses entries against the option table. uWSGI accepts every key silently; here:
 * - an unknown key is a warning with the nearest option (an error with `strict = true`), unless it is used as a
 *   placeholder (`%(key)`, `if-opt = key`);
 * - a uWSGI option that does not apply is a note, once per key, with what to do instead;
 * - an option of the other scope is a warning;
 * - a value that does not expand (`$(UNSET)`, `%(missing)`, `@(exec://...)`) or does not parse is an error naming
 *   the expected form. Values of options that are not used are never expanded or parsed, as in uWSGI.
 * Never throws.
 */
export function readOptions(
  entries: readonly ConfigEntry[],
  scope: OptionScope,
  reading: OptionReading,
): { values: OptionValues; diagnostics: Diagnostic[] } {
  const values = new OptionValues();
  const diagnostics: Diagnostic[] = [];
  const { references } = reading;
  const placeholders = new Set([...references.referencedNames(), ...(reading.tested ?? [])]);
  const strict = isStrict(entries, references);
  const noted = new Set<string>();
  for (const entry of entries) {
    const { file, line, key } = entry;
    const at = { file, line: line || undefined, key };
    const spec = findOption(key);
    if (!spec) {
      const notApplicable = findNotApplicable(key);
      if (notApplicable) {
        if (!noted.has(key)) addDiagnostic(diagnostics, { severity: 'note', ...at, message: `"${key}" is a uWSGI option, not applicable here (ignored): ${notApplicable.hint}` });
        noted.add(key);
      } else if (placeholders.has(key)) {
        if (strict) {
          addDiagnostic(diagnostics, { severity: 'error', ...at, message: `"${key}" is not an option; with strict = true, define the placeholder with set-placeholder = ${key}=${entry.value}` });
        }
      } else {
        const hint = unknownHint(key);
        addDiagnostic(diagnostics, {
          severity: strict ? 'error' : 'warning',
          ...at,
          message: `unknown option "${key}"${hint}${strict ? ' (an error because strict = true)' : ''}`,
        });
      }
      continue;
    }
    if (!inScope(spec, scope)) {
      const where = spec.scope === 'emperor' ? 'the emperor' : 'a vassal file';
      addDiagnostic(
        diagnostics,
        spec.elsewhere
          ? { severity: 'note', ...at, message: `option "${key}" is ignored here: ${spec.elsewhere}` }
          : { severity: 'warning', ...at, message: `option "${key}" belongs in ${where}; ignored here` },
      );
      continue;
    }
    const expansion = references.expand(entry);
    if (expansion.problems.length > 0) {
      addDiagnostic(diagnostics, {
        severity: 'error',
        ...at,
        message: `invalid value for ${key}: ${expansion.problems.join('; ')}`,
        ...(expansion.external ? { external: true } : {}),
      });
      continue;
    }
    const raw = entry.bare && spec.bare !== undefined ? spec.bare : expansion.value;
    if (raw.includes('\n')) {
      addDiagnostic(diagnostics, { severity: 'error', ...at, message: `invalid value for ${key}: the value has a line break (from @(file) or $(ENV)?); an option value is one line` });
      continue;
    }
    const parsed = spec.type.parse(raw, { baseDir: entry.baseDir });
    if (!parsed.ok) {
      const hint = INLINE_COMMENT.test(raw) ? `. ${INLINE_COMMENT_HINT}` : raw.includes('${') ? `. ${SHELL_VARIABLE_HINT}` : '';
      addDiagnostic(diagnostics, { severity: 'error', ...at, message: `invalid value for ${key}: ${parsed.reason}${hint}` });
      continue;
    }
    if (spec.type.typed && !spec.type.quoting && INLINE_COMMENT.test(raw)) {
      // The value parsed (a path may contain " # "), but no one means a directory called "app  # prod".
      addDiagnostic(diagnostics, { severity: 'error', ...at, message: `invalid value for ${key}: ${JSON.stringify(raw)} has what looks like a comment; ${INLINE_COMMENT_HINT}` });
      continue;
    }
    if (!spec.type.typed && INLINE_COMMENT.test(raw)) {
      addDiagnostic(diagnostics, {
        severity: 'warning',
        ...at,
        message: `the value of ${key} contains what looks like a comment (${JSON.stringify(raw)}); ${INLINE_COMMENT_HINT}`,
      });
    }
    values.add(spec, parsed.value, entry);
  }
  return { values, diagnostics };
}

/** Names worth suggesting: not the one-letter command-line shorthands (`p` for processes is no answer to `uid`). */
const CANDIDATES = optionNames().filter((n) => n.length > 1);

/**
 * "did you mean chmod-socket?" for a typo. A key with `_` is no uWSGI option name (they use `-`): either the option
 * with dashes, or a placeholder that nothing uses.
 */
function unknownHint(key: string): string {
  if (key.includes('_')) {
    const dashed = key.replaceAll('_', '-');
    if (findOption(dashed) || findNotApplicable(dashed)) return `; did you mean ${dashed}?`;
    return `; as a placeholder it is not used: nothing refers to %(${key})`;
  }
  const guess = closest(key, CANDIDATES);
  return guess && similar(key, guess) ? `; did you mean ${guess}?` : '';
}

/** A suggestion is worth making when the names differ by a typo, not by being different words. */
function similar(a: string, b: string): boolean {
  const longest = Math.max(a.length, b.length);
  let same = 0;
  while (same < Math.min(a.length, b.length) && a[same] === b[same]) same++;
  const d = distance(a, b);
  return same >= 3 || (longest <= 4 ? d <= 1 : d <= Math.max(2, Math.floor(longest / 3)));
}
