import type { Diagnostic } from './diagnostic.js';

/** One `key = value` line of the section that was asked for, where it came from, in file order. */
export interface IniEntry {
  readonly key: string;
  readonly value: string;
  readonly file: string;
  /** 1-based; 0 for options given on the command line. */
  readonly line: number;
  /** True when the line had no `=` at all (a bare flag such as `vacuum`). */
  readonly bare: boolean;
}

export interface IniLines {
  /** Entries of every block of the asked sections, in file order. */
  readonly entries: IniEntry[];
  /** Every section name the file has, in order of first appearance (for "no [uwsgi] section" errors). */
  readonly sections: string[];
  /** True when at least one header of an asked section was seen. */
  readonly foundSection: boolean;
  readonly diagnostics: Diagnostic[];
}

/** Sections read by default: uWSGI's own, and ours for files that are not meant for uWSGI. */
export const DEFAULT_SECTIONS: readonly string[] = ['uwsgi', 'supervisor'];

// uWSGI's ini_lstrip/ini_rstrip strip exactly these (core/ini.c); other Unicode space is part of the text.
const STRIP = /^[ \t\r]+|[ \t\r]+$/g;
const CONFLICT_MARKER = /^(<{7}|={7}|>{7})( |$)/;

/**
 * Splits ini text into entries the way uWSGI's core/ini.c does: a line is stripped of spaces, tabs and CR at both
 * ends; `;` or `#` first makes it a comment (there are no inline comments); `[name]` starts a section; otherwise
 * the key ends at the first `=` and everything after it, trimmed, is the value. Only lines inside one of the
 * `sections` are kept; several blocks of the same section are all read, in order.
 *
 * Pure: no I/O. Reports, rather than guesses about, lines uWSGI would misread: an unterminated `[section`,
 * an empty key, git merge-conflict markers.
 */
export function splitIniLines(text: string, file: string, sections: readonly string[] = DEFAULT_SECTIONS): IniLines {
  const entries: IniEntry[] = [];
  const seen: string[] = [];
  const diagnostics: Diagnostic[] = [];
  let current: string | undefined;
  let foundSection = false;
  const lines = text.split('\n');
  // A BOM would otherwise become part of the first key or hide the first section header.
  if (lines[0]?.startsWith('\uFEFF')) lines[0] = lines[0].slice(1);

  lines.forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(STRIP, '');
    if (content === '' || content[0] === ';' || content[0] === '#') return;
    if (CONFLICT_MARKER.test(content)) {
      diagnostics.push({
        severity: 'error',
        file,
        line,
        message: `git merge-conflict marker "${content.slice(0, 7)}": resolve the conflict before using this file`,
      });
      return;
    }
    if (content[0] === '[') {
      if (!content.endsWith(']')) {
        diagnostics.push({
          severity: 'error',
          file,
          line,
          message: `section header ${JSON.stringify(content)} has no closing "]"`,
        });
        current = undefined;
        return;
      }
      current = content.slice(1, -1);
      if (!seen.includes(current)) seen.push(current);
      if (sections.includes(current)) foundSection = true;
      return;
    }
    if (current === undefined || !sections.includes(current)) return;
    const eq = content.indexOf('=');
    const key = (eq < 0 ? content : content.slice(0, eq)).replace(STRIP, '');
    const value = eq < 0 ? '' : content.slice(eq + 1).replace(STRIP, '');
    if (key === '') {
      diagnostics.push({ severity: 'error', file, line, message: `line has a value but no option name: ${JSON.stringify(content)}` });
      return;
    }
    entries.push({ key, value, file, line, bare: eq < 0 });
  });

  return { entries, sections: seen, foundSection, diagnostics };
}
