import { describe, expect, it } from 'vitest';
import { planGroup, type GroupView, type WorkerView } from '../../src/vassal/group-plan.js';

const NOW = 1_000_000;

function view(partial: Partial<GroupView> & { workers?: WorkerView[] }): GroupView {
  return { processes: 2, targetGeneration: 1, rollBlocked: false, batch: 1, workers: [], slots: [], ...partial };
}
const w = (key: number, slot: number, generation: number, phase: WorkerView['phase'] = 'ready'): WorkerView => ({ key, slot, generation, phase });

describe('planGroup', () => {
  it('starts every slot of a new group at once', () => {
    expect(planGroup(view({ processes: 3 }), NOW)).toEqual([
      { type: 'spawn', slot: 1, generation: 1 },
      { type: 'spawn', slot: 2, generation: 1 },
      { type: 'spawn', slot: 3, generation: 1 },
    ]);
  });

  it('does nothing when every slot runs the target generation', () => {
    expect(planGroup(view({ workers: [w(1, 1, 1), w(2, 2, 1, 'starting')] }), NOW)).toEqual([]);
  });

  it('rolls one slot at a time: a successor starts beside the ready incumbent', () => {
    expect(planGroup(view({ targetGeneration: 2, workers: [w(1, 1, 1), w(2, 2, 1)] }), NOW)).toEqual([{ type: 'spawn', slot: 1, generation: 2 }]);
  });

  it('retires the incumbent only once its successor is ready, then moves to the next slot', () => {
    const starting = view({ targetGeneration: 2, workers: [w(1, 1, 1), w(2, 2, 1), w(3, 1, 2, 'starting')] });
    expect(planGroup(starting, NOW)).toEqual([]);
    const ready = view({ targetGeneration: 2, workers: [w(1, 1, 1), w(2, 2, 1), w(3, 1, 2, 'ready')] });
    expect(planGroup(ready, NOW)).toEqual([{ type: 'stop', key: 1, reason: 'replaced' }]);
    const next = view({ targetGeneration: 2, workers: [w(1, 1, 1, 'stopping'), w(2, 2, 1), w(3, 1, 2)] });
    expect(planGroup(next, NOW)).toEqual([{ type: 'spawn', slot: 2, generation: 2 }]);
  });

  it('replaces as many slots at once as the batch allows', () => {
    const v = view({ processes: 3, batch: 2, targetGeneration: 2, workers: [w(1, 1, 1), w(2, 2, 1), w(3, 3, 1)] });
    expect(planGroup(v, NOW)).toEqual([
      { type: 'spawn', slot: 1, generation: 2 },
      { type: 'spawn', slot: 2, generation: 2 },
    ]);
  });

  it('stop-first (old and new cannot run side by side): stops the incumbent, and starts its successor once it is gone', () => {
    const rolling = view({ processes: 1, stopFirst: true, targetGeneration: 2, workers: [w(1, 1, 1)] });
    expect(planGroup(rolling, NOW)).toEqual([{ type: 'stop', key: 1, reason: 'replaced' }]);
    const stopping = view({ processes: 1, stopFirst: true, targetGeneration: 2, workers: [w(1, 1, 1, 'stopping')] });
    expect(planGroup(stopping, NOW)).toEqual([]);
    expect(planGroup(view({ processes: 1, stopFirst: true, targetGeneration: 2 }), NOW)).toEqual([{ type: 'spawn', slot: 1, generation: 2 }]);
    const starting = view({ processes: 1, stopFirst: true, targetGeneration: 2, workers: [w(1, 1, 1, 'starting')] });
    expect(planGroup(starting, NOW)).toEqual([{ type: 'stop', key: 1, reason: 'outdated' }]);
  });

  it('stop-first keeps to the batch: a slot whose worker is stopping counts as being replaced', () => {
    const v = view({ processes: 2, stopFirst: true, targetGeneration: 2, workers: [w(1, 1, 1, 'stopping'), w(2, 2, 1)] });
    expect(planGroup(v, NOW)).toEqual([]);
  });

  it('replaces a not-yet-ready worker of an old generation straight away', () => {
    expect(planGroup(view({ processes: 1, targetGeneration: 2, workers: [w(1, 1, 1, 'starting')] }), NOW)).toEqual([
      { type: 'stop', key: 1, reason: 'outdated' },
      { type: 'spawn', slot: 1, generation: 2 },
    ]);
  });

  it('keeps incumbents when the roll is blocked, and restarts a crashed slot as its own last generation', () => {
    const v = view({
      targetGeneration: 2,
      rollBlocked: true,
      workers: [w(2, 2, 1)],
      slots: [
        { id: 1, lastGeneration: 1, retryAt: 0 },
        { id: 2, lastGeneration: 1, retryAt: 0 },
      ],
    });
    expect(planGroup(v, NOW)).toEqual([{ type: 'spawn', slot: 1, generation: 1 }]);
  });

  it('scales down by stopping the highest slots and leaves the others alone', () => {
    const v = view({ processes: 1, workers: [w(1, 1, 1), w(2, 2, 1), w(3, 3, 1)] });
    expect(planGroup(v, NOW)).toEqual([
      { type: 'stop', key: 2, reason: 'scale-down' },
      { type: 'stop', key: 3, reason: 'scale-down' },
    ]);
  });

  it('scales up by adding slots of the target generation only', () => {
    expect(planGroup(view({ processes: 3, workers: [w(1, 1, 1), w(2, 2, 1)] }), NOW)).toEqual([{ type: 'spawn', slot: 3, generation: 1 }]);
  });

  it('waits out a slot backoff and asks to be woken when it ends', () => {
    const v = view({ processes: 2, workers: [w(1, 1, 1)], slots: [{ id: 2, lastGeneration: 1, retryAt: NOW + 500 }] });
    expect(planGroup(v, NOW)).toEqual([{ type: 'wake', at: NOW + 500 }]);
    expect(planGroup(v, NOW + 500)).toEqual([{ type: 'spawn', slot: 2, generation: 1 }]);
  });

  it('ignores workers already stopping when counting a slot', () => {
    expect(planGroup(view({ processes: 1, workers: [w(1, 1, 1, 'stopping')] }), NOW)).toEqual([{ type: 'spawn', slot: 1, generation: 1 }]);
  });
});

describe('planGroup, when a reload comes mid-roll', () => {
  it('replaces a successor of a superseded generation at once instead of waiting for it to be ready', () => {
    const v: GroupView = { processes: 1, targetGeneration: 3, rollBlocked: false, batch: 1, slots: [], workers: [w(1, 1, 1), w(2, 1, 2, 'starting')] };
    expect(planGroup(v, NOW)).toEqual([
      { type: 'stop', key: 2, reason: 'outdated' },
      { type: 'spawn', slot: 1, generation: 3 },
    ]);
  });
});
