import { isDeepStrictEqual } from 'node:util';
import type { VassalConfig } from '../config/vassal-config.js';

/**
 * What a new config asks of a running group: a scale (only `processes` differs: the other workers are not
 * touched), a rolling reload to a new generation, or `none`: it means the same (a comment added, an option moved);
 * the group then rolls all the same, since its file changed (uWSGI reloads on any change), and the log says so.
 * `force` (SIGHUP, --reload, a touch) always rolls.
 */
export function reloadKind(current: VassalConfig, next: VassalConfig, force: boolean): 'none' | 'scale' | 'roll' {
  if (force) return 'roll';
  // Where options sit in the file is not what they mean.
  const a = { ...current, lines: {} };
  const b = { ...next, lines: {} };
  if (isDeepStrictEqual(a, b)) return 'none';
  if (isDeepStrictEqual({ ...a, processes: 0 }, { ...b, processes: 0 })) return 'scale';
  return 'roll';
}
