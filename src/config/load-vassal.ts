import { systemHost, type ConfigHost } from './config-host.js';
import { readVassalText, type ConfigRead, type TemplateRef } from './config-reader.js';
import { inReadingOrder, type Diagnostic } from './diagnostic.js';
import type { IniEntry } from './ini-lines.js';
import { References } from './references.js';
import type { OptionReading } from './option-values.js';
import { buildVassalConfig, type VassalConfigResult } from './vassal-config.js';

/** What the emperor adds to every vassal file (uWSGI: `vassals-include`, `vassal-set`). */
export interface VassalDefaults {
  /** Templates read before the vassal file's own lines. */
  readonly include: readonly TemplateRef[];
  /** Options added after the vassal file's own lines, with the emperor line that set them. */
  readonly set: readonly IniEntry[];
}

export const NO_DEFAULTS: VassalDefaults = Object.freeze({ include: [], set: [] });

export interface ParseOptions {
  readonly defaults?: VassalDefaults;
  /** Files, environment and machine facts; the real ones by default. */
  readonly host?: ConfigHost;
}

/**
 * Reads a vassal file's text into a VassalConfig. `text` is passed in (the emperor has already read the file to hash
 * it); included files, templates and @(file) are read through the host. Never throws on bad input: every problem is
 * a diagnostic with file:line.
 */
export function parseVassalText(text: string, file: string, options: ParseOptions = {}): VassalConfigResult {
  const host = options.host ?? systemHost();
  const read = readVassalText(text, file, host, options.defaults ?? NO_DEFAULTS);
  return buildFromRead(read, file, new References(read.entries, host));
}

/**
 * The second half of parseVassalText: what the reader found -> VassalConfig, expanding references through
 * `references`. Pure apart from what `references` reads. Tyrant mode runs the first half (and the expansions) as
 * the file's owner, in a reader process, and this half in the emperor on what that process returned.
 */
export function buildFromRead(read: ConfigRead, file: string, references: OptionReading['references']): VassalConfigResult {
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  // A file without its section has no options at all: "no command" on top of that would only be noise.
  if (!read.sectionFound) return { ok: false, diagnostics };
  const built = buildVassalConfig(read.entries, file, { references, tested: read.tested });
  const all = inReadingOrder([...diagnostics, ...built.diagnostics]);
  if (!built.ok || all.some((d) => d.severity === 'error')) return { ok: false, diagnostics: all };
  return { ok: true, config: built.config, diagnostics: all };
}
