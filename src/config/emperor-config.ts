import type { ConfigHost } from './config-host.js';
import type { ConfigEntry } from './config-entry.js';
import { inReadingOrder, type Diagnostic } from './diagnostic.js';
import type { VassalDefaults } from './load-vassal.js';
import { readOptions, type OptionReading, type OptionValues } from './option-values.js';
import { DAEMONIZE, EMPEROR, findOption, GID, LOGFILE_CHOWN, LOGTO, UID, VASSAL_SET, VASSALS_INCLUDE } from './options/index.js';
import { uwsgiAppSettings } from './uwsgi-app.js';

/** The emperor's options, and what it adds to every vassal. */
export interface EmperorConfig {
  readonly values: OptionValues;
  readonly vassalDefaults: VassalDefaults;
}

export type EmperorConfigResult =
  | { readonly ok: true; readonly config: EmperorConfig; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Whether options describe an emperor (uWSGI's rule: `emperor` is given) rather than one vassal. */
export function describesEmperor(entries: readonly ConfigEntry[]): boolean {
  return entries.some((e) => findOption(e.key) === EMPEROR);
}

/**
 * Options of an emperor (its ini file or command line) -> EmperorConfig. The `vassals-include` templates are read
 * now, so that a missing one is reported with the emperor's file:line before any vassal is started (they are read
 * again for every vassal, so an edit takes effect at the next reload). Never throws.
 */
export function buildEmperorConfig(entries: readonly ConfigEntry[], reading: OptionReading & { readonly host: ConfigHost }): EmperorConfigResult {
  const { values, diagnostics } = readOptions(entries, 'emperor', reading);
  const include = values.occurrences(VASSALS_INCLUDE).map(({ value, source }) => ({ path: value, source: { file: source.file, line: source.line } }));
  for (const template of include) {
    const read = reading.host.readText(template.path);
    if (!read.ok) {
      diagnostics.push({ severity: 'error', file: template.source.file, line: template.source.line || undefined, key: 'vassals-include', message: `cannot read vassals-include ${template.path}: ${read.reason}` });
    }
  }
  const set = values.occurrences(VASSAL_SET).map(({ value: [key, value], source }) => ({ key, value, file: source.file, line: source.line, bare: false }));
  const account = [UID, GID].flatMap((spec) => {
    const value = values.get(spec);
    const source = values.sourceOf(spec);
    return value === undefined || !source ? [] : [{ key: spec.name, value, file: source.file, line: source.line, bare: false }];
  });
  if (account[0]) {
    const { file, line } = account[0];
    diagnostics.push({
      severity: 'note',
      file,
      line: line || undefined,
      key: account[0].key,
      message:
        'uid/gid on the emperor are the account of every vassal that names none (not in tyrant mode, where a file\'s owner decides); the emperor itself keeps root, to bind sockets and start each vassal as its own user, where uWSGI\'s emperor drops to this account. No worker runs as root unless its vassal asks for it',
    });
  }
  const chownAt = values.get(LOGFILE_CHOWN) ? values.sourceOf(LOGFILE_CHOWN) : undefined;
  if (chownAt) {
    const missing = [
      ...(values.get(LOGTO) === undefined && values.get(DAEMONIZE) === undefined ? ['logto or daemonize (the emperor logs to its stdout)'] : []),
      ...(account.length === 0 ? ['uid or gid (the account to give it to)'] : []),
    ];
    if (missing.length > 0) {
      diagnostics.push({ severity: 'warning', file: chownAt.file, line: chownAt.line || undefined, key: LOGFILE_CHOWN.name, message: `logfile-chown on the emperor does nothing without ${missing.join(' and ')}` });
    }
  }
  const sorted = inReadingOrder(diagnostics);
  if (sorted.some((d) => d.severity === 'error')) return { ok: false, diagnostics: sorted };
  return { ok: true, config: { values, vassalDefaults: Object.freeze({ include, set, uwsgiApp: uwsgiAppSettings(values), account }) }, diagnostics: sorted };
}
