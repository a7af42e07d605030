import type { ConfigEntry } from './config-entry.js';
import { findNotApplicable, findOption } from './options/index.js';
import type { References } from './references.js';

/**
 * `supervisor --show-config`: the option list as read, in order, as an ini file that reads back to the same
 * options. Includes, logic blocks, magic variables and the references that resolve are already expanded, so
 * `%` is written `%%` (a magic variable would otherwise be expanded a second time); a reference that does not
 * resolve is kept as written, and so is a value that would expand to several lines. A key that only serves as a
 * placeholder (`project = x`, used as `%(project)`) is written `set-placeholder = project=x`: once the references
 * are expanded nothing uses it, and it would read back as an unknown option. Pure.
 */
export function renderConfig(entries: readonly ConfigEntry[], references: References, title: string, tested: ReadonlySet<string> = new Set()): string {
  const placeholders = new Set([...references.referencedNames(), ...tested]);
  const lines = [`; ${title}`, '; includes, logic blocks, magic variables and references are expanded; % is written %%', '[uwsgi]'];
  let file: string | undefined;
  for (const entry of entries) {
    if (entry.file !== file) {
      file = entry.file;
      lines.push(`; from ${file}`);
    }
    if (entry.bare && entry.value === '') {
      lines.push(entry.key);
      continue;
    }
    const expanded = references.expand(entry).value;
    const value = (expanded.includes('\n') ? entry.value : expanded).replaceAll('%', '%%');
    const placeholder = placeholders.has(entry.key) && !findOption(entry.key) && !findNotApplicable(entry.key);
    lines.push(placeholder ? `set-placeholder = ${entry.key}=${value}` : `${entry.key} = ${value}`);
  }
  return `${lines.join('\n')}\n`;
}
