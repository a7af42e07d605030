// The bench's output: the Markdown table made from a run's figures, and the paste into the README between markers.
import { describe, expect, it } from 'vitest';
import { END, pasteTable, START } from '../../bench/readme-table.mjs';
import { parseWrk } from '../../bench/reload-under-load.mjs';
import { type Figure, formatValue, markdown, type ResultsJson } from '../../bench/results.mjs';

const figure = (over: Partial<Figure>): Figure => ({ workload: 'w', label: 'l', peer: 'supervisor', unit: 'ms', min: 1, median: 1, max: 1, n: 1, ...over });
const run = (figures: Figure[], extra: Partial<ResultsJson> = {}): ResultsJson => ({
  date: '2026-01-02T03:04:05.000Z',
  machine: { cpus: 2, model: 'CPU', memoryMiB: 1024, kernel: 'Linux 6', node: 'v20', loadAverage: [1, 2, 3], bareNodeStartMs: 99 },
  versions: { supervisor: '0.1.0 (abc)', uwsgi: '2.0.21' },
  figures,
  notices: [],
  errors: [],
  ...extra,
});

describe('markdown', () => {
  it('has a column for each peer that has a figure, and a row for each label, in the order figures came', () => {
    const md = markdown(
      run([
        figure({ label: 'spawned', median: 1500 }),
        figure({ label: 'spawned', peer: 'uwsgi', median: 11_000, min: 4400, max: 11_000, n: 2 }),
        figure({ label: 'rss', unit: 'MiB', median: 92.4 }),
      ]),
    );
    const lines = md.split('\n');
    expect(lines).toContain('| workload | figure | supervisor | uWSGI |');
    expect(lines).toContain('| w | spawned | 1,500 ms | 11.0 s (4.4–11.0, n=2) |');
    expect(lines).toContain('| w | rss | 92.4 MiB | – |');
    expect(md).not.toContain('tyrant');
    expect(lines[0]).toContain('2 × CPU, 1,024 MiB, Linux 6, Node v20');
    expect(lines[0]).toContain('`node -e 0`: 99 ms');
    expect(lines[0]).toContain('load average at the start 1 / 2 / 3');
  });

  it('lists notices and failed workloads under the table', () => {
    const md = markdown(run([figure({})], { notices: ['uWSGI column skipped'], errors: [{ workload: 'scale', message: 'Error: timed out\n    at x' }] }));
    expect(md).toContain('- uWSGI column skipped');
    expect(md).toContain('- **scale failed**: Error: timed out');
    expect(md).not.toContain('at x');
  });

  it('formats each unit: ms up to 10 s, then s; counts as integers', () => {
    expect(formatValue(35, 'ms')).toBe('35.0 ms');
    expect(formatValue(0.5, 'ms')).toBe('0.50 ms');
    expect(formatValue(9999, 'ms')).toBe('9,999 ms');
    expect(formatValue(17_100, 'ms')).toBe('17.1 s');
    expect(formatValue(216_650, 'count')).toBe('216,650');
    expect(formatValue(57.94, 'MiB')).toBe('57.9 MiB');
  });
});

describe('pasteTable', () => {
  const readme = `# x\n\n## Performance\n\nhow to\n\n${START}\nold table\n${END}\n\n## Next\n`;

  it('replaces only what is between the markers, and pasting twice gives the same file', () => {
    const once = pasteTable(readme, '| a |\n|---|\n');
    expect(once).toBe(`# x\n\n## Performance\n\nhow to\n\n${START}\n| a |\n|---|\n${END}\n\n## Next\n`);
    expect(pasteTable(once, '| a |\n|---|\n')).toBe(once);
  });

  it('refuses a README without exactly one pair of markers in order', () => {
    expect(() => pasteTable('# x\n', 't')).toThrow(/needs exactly one/);
    expect(() => pasteTable(`${END}\n${START}\n`, 't')).toThrow(/needs exactly one/);
    expect(() => pasteTable(`${START}\n${END}\n${START}\n${END}\n`, 't')).toThrow(/needs exactly one/);
  });
});

describe('parseWrk', () => {
  it('reads counts, failures and latency percentiles in any unit wrk prints', () => {
    const out = [
      'Running 6s test @ http://127.0.0.1:1/',
      '  Latency Distribution',
      '     50%  812.00us',
      '     75%    7.25ms',
      '     90%  722.79ms',
      // wrk pads the unit: a value in seconds ends with a space.
      '     99%    1.43s ',
      '  40773 requests in 6.03s, 7.85MB read',
      '  Socket errors: connect 1, read 2, write 3, timeout 4',
      '  Non-2xx or 3xx responses: 5',
      'Requests/sec:   6762.53',
    ].join('\n');
    expect(parseWrk(out)).toEqual({ requests: 40773, non2xx: 5, socketErrors: 10, perSecond: 6762.53, p50Ms: 0.812, p99Ms: 1430 });
  });

  it('leaves a percentile it cannot find undefined rather than zero', () => {
    expect(parseWrk('10 requests in 1.00s').p99Ms).toBeUndefined();
  });
});
