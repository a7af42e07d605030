import { describe, expect, it } from 'vitest';
import { OutputRing } from '../../src/logs/output-ring.js';

const origin = (worker: number) => ({ time: 1, worker, pid: 10 + worker, generation: 1, stream: 'stdout' as const });
const batch = (...lines: string[]): Buffer => Buffer.from(lines.map((l) => `${l}\n`).join(''));

describe('output ring', () => {
  it('keeps the last lines in order, with who printed them', () => {
    const ring = new OutputRing(3, 1000);
    ring.add(origin(1), batch('a', 'b'));
    ring.add(origin(2), batch('c', 'd'));
    expect(ring.lines().map((e) => [e.worker, e.line])).toEqual([[1, 'b'], [2, 'c'], [2, 'd']]);
    expect(ring.lines(1).map((e) => e.line)).toEqual(['d']);
  });

  it('is bounded in bytes, whatever a flood prints', () => {
    const ring = new OutputRing(200, 100);
    for (let i = 0; i < 1000; i++) ring.add(origin(1), batch(...Array.from({ length: 50 }, (_, j) => `line ${i}-${j}`)));
    const lines = ring.lines();
    expect(lines.reduce((n, e) => n + e.line.length + 1, 0)).toBeLessThanOrEqual(200);
    expect(lines.at(-1)?.line).toBe('line 999-49');
  });
});
