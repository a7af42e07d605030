import { describe, expect, it } from 'vitest';
import { statusLine } from '../../src/control/status-line.js';
import { emperor, file, T0, vassal, worker } from './facts.js';

describe('systemd STATUS= line', () => {
  const now = T0 + 60_000;

  it('counts vassals by state and ready workers against those wanted', () => {
    const facts = emperor([
      file(vassal('a.ini')),
      file(vassal('b.ini', { rolling: true, generation: 2, workers: [worker(1, 201)] })),
      file(undefined, { configError: { at: now, errors: [{ file: '/etc/vassals/c.ini', line: 3, message: 'bad' }] } }, 'c.ini'),
      // A file that went: its vassal is on its way out and is not counted.
      file(vassal('d.ini'), { retiring: true }),
    ]);
    expect(statusLine(facts, now)).toBe('3 vassals: 1 running, 1 reloading, 1 failed; 3/4 workers ready');
  });

  it('says so when there is nothing to run', () => {
    expect(statusLine(emperor([]), now)).toBe('0 vassals; 0/0 workers ready');
    expect(statusLine(emperor([file(vassal('a.ini', { processes: 1, workers: [worker(1, 101)] }))]), now)).toBe('1 vassal: 1 running; 1/1 workers ready');
  });
});
