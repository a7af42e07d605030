// Files that never end or never open: FIFOs, devices and huge globs in every place a vassal's config reads.
// Each is refused with file:line and the reason within a deadline, and the emperor goes on supervising the rest.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, type LogRecord } from '../support/emperor.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { ask, pidsAnswering, serveIni } from '../support/serving.js';

const dir = sandbox('bad');
/** How long a refusal may take: the old code never refused at all (it blocked, or read /dev/zero until it died). */
const DEADLINE_MS = 10_000;

/** Resident and peak resident memory of a process, in bytes (/proc/PID/status VmRSS, VmHWM). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function vassal(lines: readonly string[]): string {
  return ['[uwsgi]', `command = ${fixtureCommand('forever')}`, ...lines, ''].join('\n');
}

interface Case {
  /** Creates the bad vassal in `vassals` (and what it reads in `root`); returns its path. */
  write(vassals: string, root: string): Promise<string>;
  /** The refusal expected, as logged. */
  expect(file: string, root: string): { event: 'config.diagnostic' | 'emperor.unreadable'; msg: string };
}

const fifoIn = (root: string): string => {
  const fifo = path.join(root, 'fifo');
  execFileSync('mkfifo', [fifo]);
  return fifo;
};

const FIFO = 'is a FIFO (named pipe), not a regular file';

const CASES: Record<string, Case> = {
  'ini = <fifo>': {
    write: async (vassals, root) => {
      const file = path.join(vassals, 'bad.ini');
      await writeFile(file, vassal([`ini = ${fifoIn(root)}`]));
      return file;
    },
    expect: (file, root) => ({ event: 'config.diagnostic', msg: `${file}:3: error: cannot read ini = ${root}/fifo (${root}/fifo): ${FIFO}` }),
  },
  'env = X=@(<fifo>)': {
    write: async (vassals, root) => {
      const file = path.join(vassals, 'bad.ini');
      await writeFile(file, vassal([`env = X=@(${fifoIn(root)})`]));
      return file;
    },
    expect: (file, root) => ({ event: 'config.diagnostic', msg: `${file}:3: error: invalid value for env: @(${root}/fifo): cannot read ${root}/fifo: ${FIFO}` }),
  },
  'for-readline = <fifo>': {
    write: async (vassals, root) => {
      const file = path.join(vassals, 'bad.ini');
      await writeFile(file, vassal([`for-readline = ${fifoIn(root)}`, 'env = L=%(_)', 'endfor']));
      return file;
    },
    expect: (file, root) => ({ event: 'config.diagnostic', msg: `${file}:3: error: for-readline = ${root}/fifo: cannot read ${root}/fifo: ${FIFO}; the block is skipped` }),
  },
  'env = X=@(/dev/zero)': {
    write: async (vassals) => {
      const file = path.join(vassals, 'bad.ini');
      await writeFile(file, vassal(['env = X=@(/dev/zero)']));
      return file;
    },
    expect: (file) => ({ event: 'config.diagnostic', msg: `${file}:3: error: invalid value for env: @(/dev/zero): cannot read /dev/zero: is a character device, not a regular file` }),
  },
  'for-glob over 20000 entries': {
    write: async (vassals, root) => {
      const many = path.join(root, 'many');
      await mkdir(many);
      for (let i = 0; i < 20_000; i++) closeSync(openSync(path.join(many, `f${i}`), 'w'));
      const file = path.join(vassals, 'bad.ini');
      await writeFile(file, vassal([`for-glob = ${many}/*`, 'env = G=%(_)', 'endfor']));
      return file;
    },
    expect: (file, root) => ({ event: 'config.diagnostic', msg: `${file}:3: error: for-glob = ${root}/many/*: more than 10000 paths match; at most 10000 are allowed; the block is skipped` }),
  },
  'a FIFO named x.ini': {
    write: async (vassals) => {
      const file = path.join(vassals, 'x.ini');
      execFileSync('mkfifo', [file]);
      return file;
    },
    expect: (file) => ({ event: 'emperor.unreadable', msg: `cannot read ${file}: ${FIFO}; its vassals keep running as they are` }),
  },
};

const refusal = (file: string, event: string) => (r: LogRecord): boolean =>
  r.event === event && (event === 'emperor.unreadable' ? r.path === file : r.severity === 'error' && r.file === file);

describe('bad input, end to end', () => {
  it.each(Object.keys(CASES))('%s: refused with file:line and the reason at once, while another vassal keeps serving', async (name) => {
    const bad = CASES[name]!;
    const vassals = dir.file('vassals');
    await mkdir(vassals);
    await writeFile(path.join(vassals, 'good.ini'), serveIni('good.sock'));
    const emperor = new EmperorProcess(['--emperor', vassals, '--emperor-freq', '0.5']);
    const goodSocket = path.join(vassals, 'good.sock');
    await pidsAnswering(goodSocket);
    await vi.waitFor(() => expect(new Set(emperor.events('worker.ready', 'good.ini').map((r) => r.pid))).toHaveProperty('size', 2), { timeout: 20_000 });
    const before = new Set(emperor.spawnedPids('good.ini'));
    const baseline = memory(emperor.pid);

    const file = await bad.write(vassals, dir.path);
    const written = Date.now();
    const wanted = bad.expect(file, dir.path);
    const found = await emperor.waitForLog(refusal(file, wanted.event), DEADLINE_MS);
    expect(found.msg).toBe(wanted.msg);
    expect(Date.now() - written).toBeLessThan(DEADLINE_MS);
    expect(emperor.spawnedPids(path.basename(file))).toEqual([]);

    // Nothing was read from a device: the emperor did not grow (the old code grew by hundreds of MB in seconds).
    expect(memory(emperor.pid).peak - baseline.rss).toBeLessThan(100 * 1024 * 1024);

    // The good vassal still serves, and its supervision still works: a killed worker is replaced.
    expect([...(await pidsAnswering(goodSocket))].every((pid) => before.has(pid))).toBe(true);
    const victim = [...before][0]!;
    process.kill(victim, 'SIGKILL');
    await vi.waitFor(() => expect(emperor.spawnedPids('good.ini').filter((pid) => !before.has(pid) && isAlive(pid))).toHaveLength(1), { timeout: 20_000 });
    await vi.waitFor(async () => expect((await ask(goodSocket)).pid).not.toBe(victim), { timeout: 20_000 });

    // The emperor still acts on its directory, and reports the bad file once, not at every scan.
    await writeFile(path.join(vassals, 'later.ini'), vassal([]));
    await vi.waitFor(() => expect(emperor.spawnedPids('later.ini')).toHaveLength(1), { timeout: 20_000 });
    expect(emperor.records.filter(refusal(file, wanted.event))).toHaveLength(1);
  });
});
