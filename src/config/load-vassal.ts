import path from 'node:path';
import { systemHost, type ConfigHost } from './config-host.js';
import { readVassalText, type ConfigRead, type TemplateRef } from './config-reader.js';
import { inReadingOrder, type Diagnostic } from './diagnostic.js';
import type { IniEntry } from './ini-lines.js';
import { References } from './references.js';
import type { OptionReading } from './option-values.js';
import { DEFAULT_UWSGI_APP_SETTINGS, type UwsgiAppContext, type UwsgiAppSettings } from './uwsgi-app.js';
import { buildVassalConfig, type VassalConfigResult } from './vassal-config.js';

/** What the emperor adds to every vassal file (uWSGI: `vassals-include`, `vassal-set`). */
export interface VassalDefaults {
  /** Templates read before the vassal file's own lines. */
  readonly include: readonly TemplateRef[];
  /** Options added after the vassal file's own lines, with the emperor line that set them. */
  readonly set: readonly IniEntry[];
  /** How files that configure a uWSGI app are run (uwsgi-app, uwsgi-app-binary, uwsgi-app-plugins). */
  readonly uwsgiApp?: UwsgiAppSettings;
  /**
   * The emperor's `uid`/`gid`: read before the vassal file's own lines, so a vassal that names its own account
   * keeps it. Never given to tenants' vassals (tyrant mode: the file's owner decides).
   */
  readonly account?: readonly IniEntry[];
}

export const NO_DEFAULTS: VassalDefaults = Object.freeze({ include: [], set: [] });

/**
 * What a uWSGI app vassal is started with besides its file: the emperor's templates, vassal-set lines and settings.
 * `exists` says whether a path (the uWSGI binary) is there.
 */
export function uwsgiContext(defaults: VassalDefaults, read: Pick<ConfigRead, 'section'>, cwd: string, exists: (path: string) => boolean): UwsgiAppContext {
  return {
    settings: defaults.uwsgiApp ?? DEFAULT_UWSGI_APP_SETTINGS,
    templates: defaults.include.map((t) => path.resolve(cwd, t.path)),
    set: defaults.set.map((e) => [e.key, e.value] as const),
    section: read.section,
    exists,
  };
}

/** uwsgiContext with the host's view of the file system. */
export function hostUwsgiContext(defaults: VassalDefaults, read: Pick<ConfigRead, 'section'>, host: ConfigHost): UwsgiAppContext {
  return uwsgiContext(defaults, read, host.facts.cwd, (p) => host.pathKind(p) === 'file');
}

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
  const defaults = options.defaults ?? NO_DEFAULTS;
  const read = readVassalText(text, file, host, defaults);
  return buildFromRead(read, file, new References(read.entries, host), hostUwsgiContext(defaults, read, host));
}

/**
 * The second half of parseVassalText: what the reader found -> VassalConfig, expanding references through
 * `references`; `uwsgi` is how a uWSGI app vassal would be started (the defaults, binary not looked for, if absent).
 * Pure apart from what `references` reads and `uwsgi.exists` looks at. Tyrant mode runs the first half (and the expansions) as
 * the file's owner, in a reader process, and this half in the emperor on what that process returned.
 */
export function buildFromRead(read: ConfigRead, file: string, references: OptionReading['references'], uwsgi?: UwsgiAppContext): VassalConfigResult {
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  // A file without its section has no options at all: "no command" on top of that would only be noise.
  if (!read.sectionFound) return { ok: false, diagnostics };
  const built = buildVassalConfig(read.entries, file, { references, tested: read.tested }, uwsgi);
  const all = inReadingOrder([...diagnostics, ...built.diagnostics]);
  if (!built.ok || all.some((d) => d.severity === 'error')) return { ok: false, diagnostics: all };
  return { ok: true, config: built.config, diagnostics: all };
}
