import { accessSync, constants, statSync } from 'node:fs';
import type { ConfigEntry } from '../config/config-entry.js';
import type { Diagnostic } from '../config/diagnostic.js';
import { findOption, TOUCH_RELOAD } from '../config/options/index.js';
import type { OptionPlace } from '../config/option-values.js';
import type { Expansion } from '../config/references.js';
import type { VassalConfig } from '../config/vassal-config.js';

/**
 * Paths of a config that the emperor uses as root on the tenant's behalf, checked with the rights of the process
 * that calls this (the reader, already running as the file's owner):
 * - `chdir` (or, by default, the vassal file's directory) must be a directory the owner can enter: the worker
 *   changes into it after dropping privileges, and this gives the clear, early error;
 * - every `touch-reload` path must be one the owner can stat (or, not existing yet, could see appear): the emperor
 *   watches them as root, and must not tell a tenant when a file they cannot see changes.
 * Errors are marked `external` (a chmod elsewhere can fix them without the vassal file changing).
 */
export function ownerAccessProblems(
  config: VassalConfig,
  entries: readonly ConfigEntry[],
  expansions: readonly (Expansion | null)[],
): Diagnostic[] {
  const uid = process.geteuid?.() ?? -1;
  const problems: Diagnostic[] = [];
  const error = (place: OptionPlace | undefined, key: string, message: string): void => {
    problems.push({ severity: 'error', file: place?.file || config.file, line: place?.line || undefined, key, message, external: true });
  };

  const chdir = config.chdir;
  const chdirProblem = directoryProblem(chdir);
  if (chdirProblem) {
    const place = config.lines.chdir;
    error(place, 'chdir', `chdir ${chdir}: ${chdirProblem === 'EACCES' ? `permission denied for uid ${uid}` : chdirProblem}${place ? '' : ' (the vassal file\'s directory, where workers start by default)'}`);
  }

  for (const file of new Set(config.touchReload)) {
    const reason = statProblem(file);
    if (!reason) continue;
    error(touchReloadPlace(file, entries, expansions) ?? config.lines[TOUCH_RELOAD.name], TOUCH_RELOAD.name,
      `touch-reload ${file}: ${reason === 'EACCES' ? `permission denied for uid ${uid}` : `cannot stat it as uid ${uid}: ${reason}`}; the emperor watches only what the vassal's user can see`);
  }
  return problems;
}

/** 'EACCES', another reason, or undefined when `dir` is a directory this process may enter. */
function directoryProblem(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return 'not a directory';
    accessSync(dir, constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return 'EACCES';
    if (code === 'ENOENT') return 'no such directory';
    if (code === 'ENOTDIR') return 'not a directory';
    return (err as Error).message;
  }
}

/** 'EACCES', another reason, or undefined when this process can stat `file` or sees that it does not exist. */
function statProblem(file: string): string | undefined {
  try {
    statSync(file);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Not there (yet): watched for its creation, which the owner could see too.
    if (code === 'ENOENT') return undefined;
    if (code === 'EACCES' || code === 'EPERM') return 'EACCES';
    return code ?? (err as Error).message;
  }
}

/** Where `file` was named in a touch-reload option (the last one, as it is the value that counts). */
function touchReloadPlace(file: string, entries: readonly ConfigEntry[], expansions: readonly (Expansion | null)[]): OptionPlace | undefined {
  let place: OptionPlace | undefined;
  entries.forEach((entry, i) => {
    const expansion = expansions[i];
    if (!expansion || expansion.problems.length > 0 || findOption(entry.key) !== TOUCH_RELOAD) return;
    const parsed = TOUCH_RELOAD.type.parse(expansion.value, { baseDir: entry.baseDir });
    if (parsed.ok && parsed.value === file) place = { file: entry.file, line: entry.line };
  });
  return place;
}
