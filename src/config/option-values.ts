import { closest, distance } from 'fastest-levenshtein';
import type { Diagnostic } from './diagnostic.js';
import type { IniEntry } from './ini-lines.js';
import { findOption, optionNames, type OptionScope, type OptionSpec } from './options/index.js';
import type { ValueContext } from './values.js';

/** Where a value came from: an ini line, or the command line (no file). */
export type ValueSource = Pick<IniEntry, 'file' | 'line' | 'key'>;

interface Occurrence {
  readonly value: unknown;
  readonly source: ValueSource;
}

/** The parsed values of every option that was given, in the order given. Read with the option's spec. */
export class OptionValues {
  readonly #values = new Map<OptionSpec, Occurrence[]>();

  add(spec: OptionSpec, value: unknown, source: ValueSource): void {
    const list = this.#values.get(spec) ?? [];
    list.push({ value, source });
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

  has(spec: OptionSpec): boolean {
    return this.#values.has(spec);
  }

  /** Line of the effective value of every option given (0 for the command line), by option name. */
  lines(): Record<string, number> {
    const lines: Record<string, number> = {};
    for (const [spec, list] of this.#values) lines[spec.name] = list[list.length - 1]?.source.line ?? 0;
    return lines;
  }

  /** Where the effective (last) value came from, for errors found after parsing. */
  sourceOf(spec: OptionSpec): ValueSource | undefined {
    const list = this.#values.get(spec);
    return list?.[list.length - 1]?.source;
  }
}

const INLINE_COMMENT = /\s[;#]/;
const INLINE_COMMENT_HINT =
  'uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own';

function inScope(spec: OptionSpec, scope: OptionScope): boolean {
  return spec.scope === 'both' || scope === 'both' || spec.scope === scope;
}

/**
 * Parses entries against the option table. Unknown keys and options of the other scope are warnings (uWSGI would
 * silently accept them); values that do not parse are errors naming the expected form. Never throws.
 */
export function readOptions(
  entries: readonly IniEntry[],
  scope: OptionScope,
  ctx: ValueContext,
): { values: OptionValues; diagnostics: Diagnostic[] } {
  const values = new OptionValues();
  const diagnostics: Diagnostic[] = [];
  for (const entry of entries) {
    const { file, line, key } = entry;
    const spec = findOption(key);
    if (!spec) {
      const guess = closest(key, optionNames() as string[]);
      const hint = guess && similar(key, guess) ? `; did you mean ${guess}?` : '';
      diagnostics.push({ severity: 'warning', file, line, key, message: `unknown option "${key}"${hint}` });
      continue;
    }
    if (!inScope(spec, scope)) {
      const where = spec.scope === 'emperor' ? 'the emperor' : 'a vassal file';
      diagnostics.push({ severity: 'warning', file, line, key, message: `option "${key}" belongs in ${where}; ignored here` });
      continue;
    }
    const raw = entry.bare && spec.bare !== undefined ? spec.bare : entry.value;
    const parsed = spec.type.parse(raw, ctx);
    if (!parsed.ok) {
      const hint = INLINE_COMMENT.test(raw) ? `. ${INLINE_COMMENT_HINT}` : '';
      diagnostics.push({ severity: 'error', file, line, key, message: `invalid value for ${key}: ${parsed.reason}${hint}` });
      continue;
    }
    if (!spec.type.typed && INLINE_COMMENT.test(raw)) {
      diagnostics.push({
        severity: 'warning',
        file,
        line,
        key,
        message: `the value of ${key} contains what looks like a comment (${JSON.stringify(raw)}); ${INLINE_COMMENT_HINT}`,
      });
    }
    values.add(spec, parsed.value, entry);
  }
  return { values, diagnostics };
}

/** A suggestion is worth making when the names differ by a typo, not by being different words. */
function similar(a: string, b: string): boolean {
  const longest = Math.max(a.length, b.length);
  let same = 0;
  while (same < Math.min(a.length, b.length) && a[same] === b[same]) same++;
  return same >= 3 || longest <= 4 || distance(a, b) <= Math.max(2, Math.floor(longest / 3));
}
