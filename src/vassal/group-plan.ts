/**
 * What a worker group should do next, decided from a snapshot of what runs and what is wanted (reconcile, as circus'
 * manage_processes and s6's scan do). Pure: the vassal builds the snapshot, carries out the actions, and asks again
 * after every event, so a lost or duplicated event only changes when the group converges, never where.
 *
 * Slots are numbered 1..processes, like uWSGI's worker ids. A slot normally holds one live worker; during a
 * rolling reload it briefly holds two: the incumbent, still serving, and its successor of the newer generation,
 * which replaces it only once ready.
 */

export type WorkerPhase = 'starting' | 'ready' | 'stopping';

export interface WorkerView {
  /** Unique per worker for the vassal's lifetime. */
  readonly key: number;
  readonly slot: number;
  readonly generation: number;
  readonly phase: WorkerPhase;
  /** Recycling (max-worker-lifetime, reload-on-rss): replace this worker, successor ready first. */
  readonly retire?: boolean;
}

export interface SlotView {
  readonly id: number;
  /** Generation of the slot's latest worker: what a crashed worker is restarted as while a reload is blocked. */
  readonly lastGeneration: number | undefined;
  /** Backoff: no start before this time (ms since epoch). */
  readonly retryAt: number;
}

export interface GroupView {
  readonly processes: number;
  /** The generation every worker should run. */
  readonly targetGeneration: number;
  /** The target generation failed to start during a rolling reload; keep the incumbents until the next reload. */
  readonly rollBlocked: boolean;
  /** How many slots may be replacing their worker at once (rolling reload batch). */
  readonly batch: number;
  /**
   * Old and new workers cannot run side by side (each would bind the same port itself): a slot's worker is stopped
   * first, and its successor starts once it is gone. Requests in flight still finish; new ones wait or fail.
   */
  readonly stopFirst?: boolean;
  readonly workers: readonly WorkerView[];
  readonly slots: readonly SlotView[];
}

export type Action =
  | { readonly type: 'spawn'; readonly slot: number; readonly generation: number }
  | { readonly type: 'stop'; readonly key: number; readonly reason: 'scale-down' | 'replaced' | 'outdated' }
  | { readonly type: 'wake'; readonly at: number };

/** The actions that move the group toward its target from `view`, at time `now`. */
export function planGroup(view: GroupView, now: number): Action[] {
  const actions: Action[] = [];
  const live = view.workers.filter((w) => w.phase !== 'stopping');
  let wakeAt = Infinity;

  for (const w of live) {
    if (w.slot > view.processes) actions.push({ type: 'stop', key: w.key, reason: 'scale-down' });
  }

  let replacing = 0;
  for (let id = 1; id <= view.processes; id++) {
    const here = live.filter((w) => w.slot === id).length;
    if (here > 1 || (view.stopFirst && here === 0 && view.workers.some((w) => w.slot === id))) replacing++;
  }

  for (let id = 1; id <= view.processes; id++) {
    const slot = view.slots.find((s) => s.id === id);
    const inSlot = live.filter((w) => w.slot === id).sort((a, b) => a.generation - b.generation || a.key - b.key);
    const target = view.targetGeneration;

    if (inSlot.length === 0) {
      // Stop-first: the slot's old worker must be gone, not only stopping, before its successor may bind.
      if (view.stopFirst && view.workers.some((w) => w.slot === id)) continue;
      const retryAt = slot?.retryAt ?? 0;
      if (retryAt > now) {
        wakeAt = Math.min(wakeAt, retryAt);
        continue;
      }
      const generation = view.rollBlocked ? (slot?.lastGeneration ?? target) : target;
      actions.push({ type: 'spawn', slot: id, generation });
      continue;
    }

    if (inSlot.length === 1) {
      const [w] = inSlot as [WorkerView];
      const outdated = w.generation < target && !view.rollBlocked;
      if (!outdated && !w.retire) continue;
      if (w.phase === 'starting') {
        // Not serving yet, so nothing is lost by replacing it straight away with the newer generation.
        if (outdated) actions.push({ type: 'stop', key: w.key, reason: 'outdated' }, ...(view.stopFirst ? [] : [{ type: 'spawn', slot: id, generation: target } as const]));
      } else if (replacing < view.batch && view.stopFirst) {
        replacing++;
        actions.push({ type: 'stop', key: w.key, reason: 'replaced' });
      } else if (replacing < view.batch) {
        replacing++;
        // A recycled worker keeps its generation while a reload is blocked: that config is the one known to work.
        actions.push({ type: 'spawn', slot: id, generation: outdated || !view.rollBlocked ? target : w.generation });
      }
      continue;
    }

    // Incumbent(s) and a successor: the newest retires the others once it is ready. A successor of a generation
    // already superseded (a new reload came mid-roll) is replaced at once, before it ever serves.
    const successor = inSlot[inSlot.length - 1] as WorkerView;
    if (successor.phase === 'ready') {
      for (const old of inSlot.slice(0, -1)) actions.push({ type: 'stop', key: old.key, reason: 'replaced' });
    } else if (successor.generation < target && !view.rollBlocked) {
      actions.push({ type: 'stop', key: successor.key, reason: 'outdated' }, { type: 'spawn', slot: id, generation: target });
    }
  }

  if (wakeAt !== Infinity) actions.push({ type: 'wake', at: wakeAt });
  return actions;
}
