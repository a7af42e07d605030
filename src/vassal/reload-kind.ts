import { isDeepStrictEqual } from 'node:util';
import type { VassalConfig } from '../config/vassal-config.js';

/**
 * What a new config asks of a running group: nothing, a scale (only `processes` differs: the other workers are not
 * touched), or a rolling reload to a new generation. `force` (SIGHUP, --reload) always rolls.
 */
export function reloadKind(current: VassalConfig, next: VassalConfig, force: boolean): 'none' | 'scale' | 'roll' {
  if (force) return 'roll';
  if (isDeepStrictEqual(current, next)) return 'none';
  if (isDeepStrictEqual({ ...current, processes: 0 }, { ...next, processes: 0 })) return 'scale';
  return 'roll';
}
