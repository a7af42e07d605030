import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { VassalLogSettings } from '../../src/config/log-settings.js';
import { VassalOutput } from '../../src/logs/vassal-output.js';
import { createLogger } from '../../src/runtime/logger.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();

const settings = (extra: Partial<VassalLogSettings> = {}): VassalLogSettings => ({
  file: undefined,
  openAsWorkers: false,
  direct: false,
  chown: false,
  date: undefined,
  format: 'plain',
  overflow: 'block',
  ...extra,
});

/** A logger whose destination fills up when told to, as the emperor's does under a slow reader. */
function fillableLog() {
  const records: Record<string, unknown>[] = [];
  let full = false;
  const waiting: (() => void)[] = [];
  const destination = {
    write: (text: string) => void records.push(JSON.parse(text) as Record<string, unknown>),
    get needsDrain() {
      return full;
    },
    onceDrained: (fn: () => void) => (full ? waiting.push(fn) : setImmediate(fn)),
  };
  return {
    log: createLogger('json', destination),
    records,
    fill: () => (full = true),
    drain: () => {
      full = false;
      for (const fn of waiting.splice(0)) fn();
    },
  };
}

const who = (log: ReturnType<typeof createLogger>, tail: string[] = []) => ({ worker: 1, generation: 1, pid: 42, log: log.child({ worker: 1 }), tail: (l: string[]) => tail.push(...l) });

describe('vassal output', () => {
  it('to its logto file, with the last lines kept for --logs and given to followers', async () => {
    const { log } = fillableLog();
    const output = new VassalOutput({ vassal: 'app.ini', log, tyrant: false });
    const file = dir.file('app.log');
    await output.configure(settings({ file: { path: file, maxSize: 0, backupName: undefined, backups: 10, mode: undefined, reopenOnReload: false, touchReopen: [], touchRotate: [] } }), undefined, { reload: false });
    const source = new PassThrough();
    const tail: string[] = [];
    output.forWorker().attach('stdout', source, who(log, tail));
    const followed: string[] = [];
    const stop = output.subscribe((e) => followed.push(e.line));
    source.write('one\ntw');
    source.write('o\nthree\n');
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toBe('one\ntwo\nthree\n'));
    expect(output.recentLines().map((e) => [e.worker, e.pid, e.stream, e.line])).toEqual([
      [1, 42, 'stdout', 'one'],
      [1, 42, 'stdout', 'two'],
      [1, 42, 'stdout', 'three'],
    ]);
    expect(output.recentLines(1).map((e) => e.line)).toEqual(['three']);
    expect(followed).toEqual(['one', 'two', 'three']);
    expect(tail).toEqual(['one', 'two', 'three']);
    stop();
    source.write('four\n');
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toContain('four'));
    expect(followed).toEqual(['one', 'two', 'three']);
    expect(output.file).toBe(file);
    await output.close();
  });

  it('backpressure: stops reading the worker while the emperor\'s log is full, then delivers everything in order', async () => {
    const { log, records, fill, drain } = fillableLog();
    const output = new VassalOutput({ vassal: 'app.ini', log, tyrant: false });
    await output.configure(settings(), undefined, { reload: false });
    const source = new PassThrough();
    output.forWorker().attach('stderr', source, who(log));
    fill();
    source.write('a\nb\n');
    await new Promise((resolve) => setImmediate(resolve));
    // One record went out before it saw the log full; then the worker's stream is paused.
    expect(source.isPaused()).toBe(true);
    source.write('c\n');
    const lines = () => records.filter((r) => r.event === 'worker.output').map((r) => r.msg);
    expect(lines().length).toBeLessThan(3);
    drain();
    await vi.waitFor(() => expect(lines()).toEqual(['a', 'b', 'c']));
    expect(source.isPaused()).toBe(false);
    expect(records.find((r) => r.event === 'worker.output')).toMatchObject({ worker: 1, stream: 'stderr' });
  });

  it('log-overflow = drop: never pauses the worker; what was dropped is counted in log.dropped', async () => {
    const { log, records, fill, drain } = fillableLog();
    const output = new VassalOutput({ vassal: 'app.ini', log: log.child({ vassal: 'app.ini' }), tyrant: false });
    await output.configure(settings({ overflow: 'drop' }), undefined, { reload: false });
    const source = new PassThrough();
    output.forWorker().attach('stdout', source, who(log));
    fill();
    for (let i = 0; i < 100; i++) source.write(`line ${i}\n`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.isPaused()).toBe(false);
    drain();
    await output.close();
    const dropped = records.filter((r) => r.event === 'log.dropped');
    expect(dropped).toEqual([expect.objectContaining({ vassal: 'app.ini', lines: 100 })]);
  });
});
