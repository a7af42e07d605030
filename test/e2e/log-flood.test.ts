// A worker that prints as fast as it can, into an emperor whose stdout is read deliberately slowly: the emperor's
// memory stays bounded, another vassal's crashed worker is replaced as promptly as without the flood, and nothing
// the emperor logs about that other vassal is lost. Figures (bytes, RSS, CPU, latencies): bench/log-flood.mjs.
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmperorProcess, vassalIni } from '../support/emperor.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { SlowReader } from '../support/slow-reader.js';

const dir = sandbox();
let reader: SlowReader | undefined;

afterEach(() => {
  reader?.close();
  reader = undefined;
});

const LINE = 'flood '.padEnd(100, 'x');
const floodIni = (extra: Record<string, string> = {}): string => vassalIni({ command: `/usr/bin/yes ${LINE}`, 'ready-after': 0, ...extra });

/** Live workers of `emperor` whose command line starts with `program`. */
function workers(emperor: EmperorProcess, program: string): number[] {
  return emperor.liveDescendants().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === program;
    } catch {
      return false;
    }
  });
}

const status = (pid: number, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
const written = (pid: number): number => Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);

/** SIGKILLs the one `sleep` worker and resolves with how long (ms) until its replacement runs. */
async function killAndTime(emperor: EmperorProcess): Promise<{ victim: number; ms: number }> {
  const [victim] = await vi.waitFor(() => {
    const found = workers(emperor, 'sleep');
    if (found.length !== 1) throw new Error(`${found.length} sleep workers`);
    return found;
  }, { timeout: 20_000 });
  const t0 = Date.now();
  process.kill(victim!, 'SIGKILL');
  await vi.waitFor(() => expect(workers(emperor, 'sleep').filter((p) => p !== victim)).toHaveLength(1), { timeout: 30_000, interval: 5 });
  return { victim: victim!, ms: Date.now() - t0 };
}

describe('a flood of output', () => {
  it('through a slow log: bounded memory, another vassal restarted promptly, nothing about it lost', async () => {
    reader = new SlowReader(dir.file('stdout.fifo'));
    await writeFile(dir.file('other.ini'), vassalIni({ command: 'sleep 3600', 'ready-after': 0, 'healthy-after': 0.1 }));
    const emperor = new EmperorProcess(['--emperor', dir.path], { stdout: reader.writeFd });
    reader.closeWriteEnd();
    reader.fast();
    await vi.waitFor(() => expect(reader?.records.some((r) => r.event === 'vassal.ready')).toBe(true), { timeout: 20_000 });

    const victims: number[] = [];
    const quiet: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { victim, ms } = await killAndTime(emperor);
      victims.push(victim);
      quiet.push(ms);
      await sleep(300);
    }

    // The flood: `yes` as fast as it can, into a log read at 100 kB/s.
    reader.slow(100_000);
    await writeFile(dir.file('flood.ini'), floodIni());
    const [yes] = await vi.waitFor(() => {
      const found = workers(emperor, '/usr/bin/yes');
      if (found.length !== 1) throw new Error('no flood yet');
      return found;
    }, { timeout: 20_000 });
    const floodStart = Date.now();
    const flooded: number[] = [];
    while (Date.now() - floodStart < 10_000) {
      await sleep(2000);
      const { victim, ms } = await killAndTime(emperor);
      victims.push(victim);
      flooded.push(ms);
    }
    const floodBytes = written(yes!);
    expect(isAlive(yes!)).toBe(true);
    const peakKiB = status(emperor.pid, 'VmHWM');
    expect(peakKiB).toBeLessThan(250 * 1024);

    // Replaced as promptly: generous bounds for a busy 2-core machine; the figures are in bench/log-flood.mjs.
    for (const ms of flooded) expect(ms).toBeLessThan(Math.max(5000, 20 * Math.max(...quiet)));

    // A clean stop writes out everything queued: every record about the other vassal is there.
    await rm(dir.file('flood.ini'));
    reader.fast();
    process.kill(emperor.pid, 'SIGTERM');
    expect((await emperor.exit(60_000)).code).toBe(0);
    await vi.waitFor(() => expect(reader?.ended).toBe(true), { timeout: 30_000 });
    const records = reader.records;
    const other = records.filter((r) => r.vassal === 'other.ini');
    for (const pid of victims) {
      expect(other.some((r) => r.event === 'worker.exit' && r.pid === pid && r.signal === 'SIGKILL')).toBe(true);
      expect(other.some((r) => r.event === 'worker.died' && r.signal === 'SIGKILL')).toBe(true);
    }
    expect(other.filter((r) => r.event === 'worker.spawn')).toHaveLength(1 + victims.length);
    expect(other.filter((r) => r.event === 'worker.ready')).toHaveLength(1 + victims.length);
    expect(records.filter((r) => r.event === 'log.recovered')).toEqual([]);
    expect(records.filter((r) => r.event === 'worker.output' && r.vassal === 'flood.ini').length).toBeGreaterThan(100);
    // The emperor's last word is there; only lines the flood had printed before it was stopped may follow it.
    const stopped = records.findIndex((r) => r.event === 'emperor.stopped');
    expect(stopped).toBeGreaterThan(0);
    expect(records.slice(stopped + 1).filter((r) => r.event !== 'worker.output')).toEqual([]);
    // Backpressure: `yes` could write gigabytes in 10 s; it wrote about what the slow log took (1 MB of records).
    expect(floodBytes).toBeLessThan(20_000_000);
  });

  it('with log-overflow = drop: the worker is not slowed, and log.dropped counts what was lost', async () => {
    reader = new SlowReader(dir.file('stdout.fifo'));
    await writeFile(dir.file('flood.ini'), floodIni({ 'log-overflow': 'drop' }));
    const emperor = new EmperorProcess(['--emperor', dir.path], { stdout: reader.writeFd });
    reader.closeWriteEnd();
    reader.slow(100_000);
    const [yes] = await vi.waitFor(() => {
      const found = workers(emperor, '/usr/bin/yes');
      if (found.length !== 1) throw new Error('no flood yet');
      return found;
    }, { timeout: 20_000 });
    // Far more than the log takes (100 kB/s): nothing holds the worker back.
    await vi.waitFor(() => expect(written(yes!)).toBeGreaterThan(20_000_000), { timeout: 30_000, interval: 100 });
    reader.fast();
    process.kill(emperor.pid, 'SIGTERM');
    expect((await emperor.exit(60_000)).code).toBe(0);
    await vi.waitFor(() => expect(reader?.ended).toBe(true), { timeout: 30_000 });
    const dropped = reader.records.filter((r) => r.event === 'log.dropped' && r.vassal === 'flood.ini');
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.reduce((n, r) => n + (r.lines as number), 0)).toBeGreaterThan(10_000);
  });
});
