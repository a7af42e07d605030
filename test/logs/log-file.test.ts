import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { FileOpener } from '../../src/logs/file-opener.js';
import { LogFile, type LogFileEvent } from '../../src/logs/log-file.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();

function fileLog(path: string, options: { maxSize?: number; backups?: number } = {}, events: LogFileEvent[] = []): LogFile {
  const opener = new FileOpener({ path, allowDevices: true, backups: options.backups ?? 10 }, undefined);
  return new LogFile({ kind: 'path', name: path, open: () => opener.open(), rotate: () => opener.rotate() }, { maxSize: options.maxSize, onEvent: (e) => events.push(e) });
}

describe('log file', () => {
  it('writes in order, asynchronously, and close() writes out everything queued', async () => {
    const file = dir.file('a.log');
    const log = fileLog(file);
    await log.ready();
    for (let i = 0; i < 1000; i++) log.write(`line ${i}\n`);
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1000);
    expect(lines.at(-1)).toBe('line 999');
    expect(statSync(file).mode & 0o7777).toBe(0o640);
  });

  it('on a full disk (/dev/full): reported once, everything dropped and counted, never throws, never asks writers to wait', async () => {
    const events: LogFileEvent[] = [];
    const log = fileLog('/dev/full', {}, events);
    await log.ready();
    log.write('first\n');
    await vi.waitFor(() => expect(log.failing).toBe(true));
    for (let i = 0; i < 100; i++) expect(log.write(`x ${i}\n`)).toBe(false);
    expect(log.needsDrain).toBe(false);
    expect(events.filter((e) => e.type === 'failed')).toEqual([expect.objectContaining({ code: 'ENOSPC' })]);
    await log.close();
  });

  it('a reader that stops reading (full pipe): queues up to the high-water mark, then says wait; past the cap drops and counts; recovers', async () => {
    execFileSync('mkfifo', [dir.file('fifo')]);
    const reader = openSync(dir.file('fifo'), constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(dir.file('fifo'), constants.O_WRONLY | constants.O_NONBLOCK);
    const events: LogFileEvent[] = [];
    const log = new LogFile({ kind: 'fd', name: 'fifo', fd: writer }, { highWaterBytes: 100_000, capBytes: 400_000, onEvent: (e) => events.push(e) });
    try {
      const record = `${'x'.repeat(999)}\n`;
      let dropped = 0;
      for (let i = 0; i < 1000; i++) if (!log.write(record)) dropped++;
      expect(log.needsDrain).toBe(true);
      expect(dropped).toBeGreaterThan(0);
      expect(log.queuedBytes).toBeLessThanOrEqual(400_000);
      const drained = vi.fn();
      log.onceDrained(drained);
      // The reader catches up: what was queued goes out, the wait ends, and the loss is reported.
      const buf = Buffer.alloc(1 << 20);
      let got = 0;
      await vi.waitFor(
        () => {
          try {
            got += readSync(reader, buf, 0, buf.length, null);
          } catch {
            // EAGAIN
          }
          expect(drained).toHaveBeenCalled();
          expect(events).toContainEqual(expect.objectContaining({ type: 'recovered', droppedLines: dropped, droppedBytes: dropped * 1000 }));
          expect(got).toBe((1000 - dropped) * 1000);
        },
        { timeout: 10_000, interval: 5 },
      );
      expect(events.filter((e) => e.type === 'failed')).toEqual([]);
    } finally {
      await log.close(0);
      closeSync(writer);
      closeSync(reader);
    }
  });

  it('rotates before a write would pass maxSize, at a line boundary, keeping `backups` rotated files', async () => {
    const file = dir.file('r.log');
    const events: LogFileEvent[] = [];
    const log = fileLog(file, { maxSize: 100, backups: 2 }, events);
    await log.ready();
    for (let i = 0; i < 30; i++) {
      log.write(`line ${String(i).padStart(3, '0')} ${'y'.repeat(20)}\n`); // 30 bytes
      await new Promise((resolve) => setImmediate(resolve));
    }
    await log.close();
    const rotated = readdirSync(dir.path).filter((n) => /^r\.log\.\d{10,}/.test(n));
    expect(rotated).toHaveLength(2);
    for (const name of ['r.log', ...rotated]) expect(statSync(dir.file(name)).size).toBeLessThanOrEqual(100);
    expect(readFileSync(file, 'utf8')).toContain('line 029');
    expect(events.filter((e) => e.type === 'rotated').length).toBeGreaterThanOrEqual(9);
  });

  it('reopens by path after a rename; a file that cannot be opened is reported and tried again at the next reopen', async () => {
    const file = dir.file('sub/o.log');
    const events: LogFileEvent[] = [];
    const log = fileLog(file, {}, events);
    await log.ready();
    expect(events).toEqual([expect.objectContaining({ type: 'open-failed', code: 'ENOENT' })]);
    expect(log.write('lost\n')).toBe(false);
    execFileSync('mkdir', [dir.file('sub')]);
    await log.reopen();
    log.write('kept\n');
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe('kept\n');
    expect(events).toContainEqual(expect.objectContaining({ type: 'recovered', droppedLines: 1 }));
  });
});
