import type { IniEntry } from './ini-lines.js';

/**
 * One option after the file language is applied: sections picked, magic variables expanded, logic blocks and
 * includes unrolled. `$(ENV)`, `@(file)` and `%(name)` are still in the value: they are expanded only for the
 * options that are used (see references.ts), as uWSGI expands them after the whole list is assembled.
 * `file`/`line` are where the line was written (an included file reports its own).
 */
export interface ConfigEntry extends IniEntry {
  /** Directory that relative paths in the value resolve against: the top-level file's (or the cwd). */
  readonly baseDir: string;
  /** `%` sequences in the value that are not magic variables (kept verbatim; refused in options we use). */
  readonly stray: readonly string[];
}

/** The first value of an option or placeholder among `entries`, as uWSGI's uwsgi_get_exported_opt finds it. */
export function firstValue(entries: readonly ConfigEntry[], name: string): ConfigEntry | undefined {
  for (const entry of entries) {
    if (entry.key === name) return entry;
    if (isPlaceholderSetter(entry.key)) {
      const eq = entry.value.indexOf('=');
      if (eq > 0 && entry.value.slice(0, eq).trim() === name) {
        return { ...entry, key: name, value: entry.value.slice(eq + 1).trim() };
      }
    }
  }
  return undefined;
}

/** `set-placeholder = name=value` (uWSGI also spells it `set-ph`). */
export function isPlaceholderSetter(key: string): boolean {
  return key === 'set-placeholder' || key === 'set-ph';
}
