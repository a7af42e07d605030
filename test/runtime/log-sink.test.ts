import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { LogSink } from '../../src/runtime/log-sink.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();

describe('log sink', () => {
  it('survives a full disk (/dev/full): reports once, drops and counts, never throws', () => {
    const full = openSync('/dev/full', 'w');
    const report = openSync(dir.file('stderr'), 'w');
    try {
      const sink = new LogSink(full, { reportFd: report });
      for (let i = 0; i < 5; i++) expect(() => sink.write(`{"n":${i}}\n`)).not.toThrow();
      expect(sink.dropped).toBe(5);
      expect(sink.failing).toBe(true);
      const said = readFileSync(dir.file('stderr'), 'utf8');
      expect(said.trim().split('\n')).toHaveLength(1);
      expect(said).toMatch(/cannot write the log \(fd \d+\): ENOSPC.*supervision carries on/);
    } finally {
      closeSync(full);
      closeSync(report);
    }
  });

  it('drops records while a pipe stays full (waiting a bounded time once), and reports the count once writing works again', async () => {
    execFileSync('mkfifo', [dir.file('fifo')]);
    const reader = openSync(dir.file('fifo'), constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(dir.file('fifo'), constants.O_WRONLY | constants.O_NONBLOCK);
    const recovered = vi.fn();
    try {
      const sink = new LogSink(writer, { busyWaitMs: 50, onRecovered: recovered });
      const record = `${'x'.repeat(1000)}\n`;
      const started = Date.now();
      while (!sink.failing && Date.now() - started < 10_000) sink.write(record);
      expect(sink.failing).toBe(true);
      // In the outage, a record costs one attempt, no wait.
      const t = Date.now();
      for (let i = 0; i < 20; i++) sink.write(record);
      expect(Date.now() - t).toBeLessThan(50);
      const dropped = sink.dropped;
      expect(dropped).toBeGreaterThanOrEqual(21);

      // The reader catches up: the next record goes through and the loss is reported, on a later tick.
      const buf = Buffer.alloc(1 << 20);
      let drained = '';
      for (let n; (n = tryRead(reader, buf)) > 0; ) drained += buf.subarray(0, n).toString();
      sink.write('after\n');
      expect(sink.failing).toBe(false);
      await vi.waitFor(() => expect(recovered).toHaveBeenCalledWith(dropped, 'EAGAIN'));
      for (let n; (n = tryRead(reader, buf)) > 0; ) drained += buf.subarray(0, n).toString();
      // A record cut off by the outage is ended before the next one starts: every line is whole or a cut prefix.
      const lines = drained.split('\n');
      expect(lines.at(-2)).toBe('after');
      expect(lines.slice(0, -2).every((l) => /^x*$/.test(l))).toBe(true);
    } finally {
      closeSync(writer);
      closeSync(reader);
    }
  });
});

function tryRead(fd: number, buf: Buffer): number {
  try {
    return readSync(fd, buf, 0, buf.length, null);
  } catch {
    return 0;
  }
}
