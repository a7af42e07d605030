import type { ConfigHost } from './config-host.js';
import type { ConfigEntry } from './config-entry.js';
import { readCommandLine, readVassalText, splitSectionSpec } from './config-reader.js';
import { inReadingOrder, type Diagnostic } from './diagnostic.js';
import { buildEmperorConfig, describesEmperor } from './emperor-config.js';
import type { IniEntry } from './ini-lines.js';
import { NO_DEFAULTS, type VassalDefaults } from './load-vassal.js';
import { findOption, INI } from './options/index.js';
import { References } from './references.js';
import { buildVassalConfig, type VassalConfigResult } from './vassal-config.js';

/** One config file as `--check` and `--show-config` see it. */
export interface InspectedFile {
  /** An emperor file has `emperor =`; anything else is read as a vassal. */
  readonly kind: 'emperor' | 'vassal';
  /** The options as read (templates and vassal-set lines included for a vassal). */
  readonly entries: readonly ConfigEntry[];
  readonly references: References;
  /** Names `if-opt` tested (placeholders). */
  readonly tested: ReadonlySet<string>;
  /** Everything found, reading and validating, in that order. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Reads and validates one file (`file.ini`, or `file.ini:section` as uWSGI's `--ini` takes it) the way the emperor would use it: as an emperor config when it sets `emperor`,
 * otherwise as a vassal with the given defaults (the emperor's `vassals-include`/`vassal-set`). Never throws.
 */
export function inspectConfigFile(spec: string, host: ConfigHost, defaults: VassalDefaults = NO_DEFAULTS): InspectedFile {
  const { file, sections } = splitSectionSpec(spec, (p) => host.pathKind(p) !== 'missing');
  const text = host.readText(file);
  if (!text.ok) {
    const references = new References([], host);
    return { kind: 'vassal', entries: [], references, tested: new Set(), diagnostics: [{ severity: 'error', file, message: `cannot read: ${text.reason}` }] };
  }
  const plain = readVassalText(text.text, file, host, {}, sections);
  if (describesEmperor(plain.entries)) {
    const references = new References(plain.entries, host);
    const built = buildEmperorConfig(plain.entries, { references, tested: plain.tested, host });
    return { kind: 'emperor', entries: plain.entries, references, tested: plain.tested, diagnostics: inReadingOrder([...plain.diagnostics, ...built.diagnostics]) };
  }
  const read = defaults === NO_DEFAULTS ? plain : readVassalText(text.text, file, host, defaults, sections);
  const references = new References(read.entries, host);
  if (!read.sectionFound) return { kind: 'vassal', entries: read.entries, references, tested: read.tested, diagnostics: read.diagnostics };
  const built = buildVassalConfig(read.entries, file, { references, tested: read.tested });
  return { kind: 'vassal', entries: read.entries, references, tested: read.tested, diagnostics: inReadingOrder([...read.diagnostics, ...built.diagnostics]) };
}

/**
 * The vassal that a command line describes (`supervisor app.ini --processes 4`): its files read with `--ini`, its
 * flags applied in order. `file` names the vassal and anchors its default `chdir`. Never throws.
 */
export function readCommandLineVassal(entries: readonly IniEntry[], file: string, host: ConfigHost): VassalConfigResult {
  const read = readCommandLine(entries, host);
  // The file could not be read, or has no [uwsgi] section (already reported): "no command" would only be noise.
  if (host.pathKind(file) !== 'file' || !read.sectionFound) return { ok: false, diagnostics: read.diagnostics };
  const built = buildVassalConfig(read.entries, file, { references: new References(read.entries, host), tested: read.tested });
  const diagnostics = inReadingOrder([...read.diagnostics, ...built.diagnostics]);
  if (!built.ok || diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics };
  return { ok: true, config: built.config, diagnostics };
}

/** The vassal file a command line names: its first `--ini` (or bare FILE.ini), without a `:section` suffix. */
export function firstIniFile(entries: readonly IniEntry[], host: ConfigHost): string | undefined {
  const spec = entries.find((e) => findOption(e.key) === INI)?.value;
  return spec === undefined ? undefined : splitSectionSpec(spec, (p) => host.pathKind(p) !== 'missing').file;
}
