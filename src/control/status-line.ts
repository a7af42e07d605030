import type { EmperorFacts } from '../emperor/emperor-facts.js';
import { vassalState, type VassalState } from './snapshot.js';

const ORDER: readonly VassalState[] = ['running', 'starting', 'reloading', 'backoff', 'failed', 'stopping'];

/**
 * One line for systemd's STATUS= (`systemctl status` shows it): "3 vassals: 2 running, 1 failed; 5/6 workers
 * ready". Counts come from the emperor's facts at `now` (ms since the epoch); states with no vassal are left out.
 * Pure.
 */
export function statusLine(facts: Pick<EmperorFacts, 'files'>, now: number): string {
  const counts = new Map<VassalState, number>();
  let ready = 0;
  let wanted = 0;
  for (const file of facts.files) {
    if (file.retiring) continue;
    const state = vassalState(file, now);
    counts.set(state, (counts.get(state) ?? 0) + 1);
    if (file.vassal) {
      wanted += file.vassal.processes;
      ready += file.vassal.workers.filter((w) => w.phase === 'ready').length;
    }
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const states = ORDER.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`);
  const vassals = `${total} vassal${total === 1 ? '' : 's'}${states.length > 0 ? `: ${states.join(', ')}` : ''}`;
  return `${vassals}; ${ready}/${wanted} workers ready`;
}
