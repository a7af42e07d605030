// nice-until-ready through the real emperor: workers that are ready only once a trigger file exists, so a storm of
// them stays a storm for as long as the test looks at it. The workers are shells (ready-when-file.sh) that start a
// child: cheap to start, so one at nice 19 starts well within LOWERED_AT_MOST_MS even on a machine kept busy at nice
// 0 (a Node worker, 0.1 s of CPU, may not: the cap then gives its priority back before the test looks). The threads
// of a program started after begin() are start-priority.test.ts's.
import { writeFile } from 'node:fs/promises';
import { availableParallelism, getPriority } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { LOWERED_AT_MOST_MS } from '../../src/worker/start-priority.js';
import { EmperorProcess, FIXTURES, vassalIni } from '../support/emperor.js';
import { autogroupNice, HAS_AUTOGROUP, notAt, sessionCommands, sessionThreads } from '../support/nice.js';
import { sandbox } from '../support/sandbox.js';
import { isRoot } from '../support/test-users.js';

const dir = sandbox('svn');
/** The emperor's storm size: that many workers starting make the next ones lowered. */
const CPUS = availableParallelism();
/** The emperor's own nice value (it inherits this process's), which workers get back. */
const BASE = getPriority();
const LOW = 19;

/** A vassal of `processes` workers, each ready once the file `go`, or `go.<its slot>`, exists in the sandbox. */
function waitingVassal(processes: number): string {
  return vassalIni({ command: `/bin/sh ${FIXTURES}workers/ready-when-file.sh`, processes, 'notification-fd': 'auto', env: `READY_FILE=${dir.file('go')}` });
}

/** Waits for `count` worker.spawn records; their pids, in spawn order. */
async function spawned(emperor: EmperorProcess, count: number): Promise<number[]> {
  return vi.waitFor(
    () => {
      const pids = emperor.spawnedPids();
      expect(pids).toHaveLength(count);
      return pids;
    },
    { timeout: 20_000, interval: 10 },
  );
}

/** The nice value of a process's own (main) thread, /proc/PID/stat field 19. */
function mainNice(pid: number): number | undefined {
  return sessionThreads(pid).find((t) => t.tid === pid)?.nice;
}

/**
 * Waits until every worker in `pids` runs the fixture, has said so, and runs its child. A lowered worker must get there
 * before LOWERED_AT_MOST_MS gives it its priority back.
 */
async function running(emperor: EmperorProcess, pids: readonly number[]): Promise<void> {
  const timeout = LOWERED_AT_MOST_MS - 2000;
  await vi
    .waitFor(
      () => {
        const said = new Set(emperor.events('worker.output').filter((r) => r.msg.startsWith('waiting for')).map((r) => r.pid));
        expect(pids.filter((pid) => !said.has(pid))).toEqual([]);
      },
      { timeout, interval: 20 },
    )
    .then(() => vi.waitFor(() => expect(pids.filter((pid) => !sessionCommands(pid).includes('sleep 3600'))).toEqual([]), { timeout: 2000, interval: 20 }))
    .catch((err: Error) => {
      throw new Error(`not every worker ran its program within ${timeout} ms (is the machine too busy for a worker at nice 19?): ${err.message}`);
    });
}

/** Per worker: the threads of its session that are not at the nice value `expected(i)` says, and its autogroup's. */
function offenders(pids: readonly number[], expected: (i: number) => number): string[] {
  return pids.flatMap((pid, i) => {
    const want = expected(i);
    const threads = sessionThreads(pid);
    const wrong = notAt(threads, want).map((line) => `worker #${i}: ${line}, expected ${want}`);
    if (threads.length === 0) wrong.push(`worker #${i} (pid ${pid}): no threads found`);
    if (HAS_AUTOGROUP && autogroupNice(pid) !== (want === BASE ? 0 : want)) wrong.push(`worker #${i} (pid ${pid}): autogroup nice ${autogroupNice(pid)}, expected ${want === BASE ? 0 : want}`);
    return wrong;
  });
}

describe.skipIf(!isRoot)('nice-until-ready (root)', () => {
  it(`starts the workers spawned while ${CPUS} (the CPUs) others are starting at nice 19 until they are ready`, async () => {
    // Two more workers than the storm size: the last two are lowered.
    const processes = CPUS + 2;
    const lowered = (i: number): number => (i < CPUS ? BASE : LOW);
    await writeFile(dir.file('storm.ini'), waitingVassal(processes));
    const emperor = new EmperorProcess(['--emperor', dir.path, '--nice-until-ready', String(LOW)]);
    const pids = await spawned(emperor, processes);
    const spawnedAt = Date.now();

    // At once: each worker's process (whichever program of its exec chain it is at) and its autogroup.
    expect(pids.map(mainNice)).toEqual(pids.map((_, i) => lowered(i)));
    if (HAS_AUTOGROUP) expect(pids.map(autogroupNice)).toEqual(pids.map((_, i) => (lowered(i) === LOW ? LOW : 0)));
    // Once each runs the fixture: its shell and the child it started.
    await running(emperor, pids);
    expect(offenders(pids, lowered)).toEqual([]);
    // Still within the cap (which restores them regardless): what was seen is the storm's doing.
    expect(Date.now() - spawnedAt).toBeLessThan(LOWERED_AT_MOST_MS);
    expect(emperor.events('worker.ready')).toEqual([]);

    await writeFile(dir.file('go'), '');
    await vi.waitFor(() => expect(emperor.events('worker.ready')).toHaveLength(processes), { timeout: 20_000, interval: 20 });
    await vi.waitFor(() => expect(offenders(pids, () => BASE)).toEqual([]), { timeout: 5000, interval: 20 });
    // Given back by their readiness, not by the cap.
    expect(Date.now() - spawnedAt).toBeLessThan(LOWERED_AT_MOST_MS);
  });

  it(`gives the workers still starting their priority back once no more than ${CPUS} are starting, ready or not (the default as root: 19)`, async () => {
    const processes = CPUS + 2;
    await writeFile(dir.file('storm.ini'), waitingVassal(processes));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    const pids = await spawned(emperor, processes);
    const spawnedAt = Date.now();
    const slots = emperor.events('worker.spawn').map((r) => r.worker as number);
    await running(emperor, pids);

    // Made ready one at a time, in spawn order. The rule (start-storm.ts): the workers spawned while CPUS others were
    // starting are lowered until they are ready, or until the storm is over: no more than CPUS starting, so that none
    // of them would be lowered if it started now. Then every worker still lowered gets its priority back.
    let over = false;
    for (let ready = 0; ready <= processes; ready++) {
      over ||= processes - ready <= CPUS;
      const expected = (i: number): number => (i < CPUS || i < ready || over ? BASE : LOW);
      await vi.waitFor(() => expect(offenders(pids, expected)).toEqual([]), { timeout: 5000, interval: 20 });
      if (ready === processes) break;
      await writeFile(`${dir.file('go')}.${slots[ready]}`, '');
      await vi.waitFor(() => expect(emperor.events('worker.ready').map((r) => r.pid)).toEqual(pids.slice(0, ready + 1)), { timeout: 10_000, interval: 20 });
    }
    // All of it within the cap (which gives every worker its priority back regardless).
    expect(Date.now() - spawnedAt).toBeLessThan(LOWERED_AT_MOST_MS);
  });

  it('lowers no worker with --nice-until-ready 0', async () => {
    const processes = CPUS + 2;
    await writeFile(dir.file('storm.ini'), waitingVassal(processes));
    const emperor = new EmperorProcess(['--emperor', dir.path, '--nice-until-ready', '0']);
    const pids = await spawned(emperor, processes);
    expect(pids.map(mainNice)).toEqual(pids.map(() => BASE));
    await running(emperor, pids);
    expect(offenders(pids, () => BASE)).toEqual([]);
    expect(emperor.events('worker.ready')).toEqual([]);
  });

  it('never lowers a lone start (a vassal of one worker), with the default as root (19)', async () => {
    await writeFile(dir.file('lone.ini'), waitingVassal(1));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    const pids = await spawned(emperor, 1);
    expect(pids.map(mainNice)).toEqual([BASE]);
    await running(emperor, pids);
    expect(offenders(pids, () => BASE)).toEqual([]);
    // This root has CAP_SYS_ADMIN: no warning about the kernel's limit on autogroup changes.
    expect(emperor.events('emperor.nice-until-ready')).toEqual([]);
  });

  it.skipIf(!HAS_AUTOGROUP)('warns at start when root lacks CAP_SYS_ADMIN (the kernel then takes one autogroup change per 100 ms)', async () => {
    await writeFile(dir.file('lone.ini'), waitingVassal(1));
    // Out of the bounding set, root's exec of node leaves it out of the effective set too (capabilities(7)).
    const emperor = new EmperorProcess(['--emperor', dir.path], { wrap: ['/usr/bin/setpriv', '--bounding-set', '-sys_admin', '--'] });
    await spawned(emperor, 1);
    const [warning] = emperor.events('emperor.nice-until-ready');
    expect(warning).toMatchObject({ level: 'warn', limited: 'autogroup' });
    expect(warning?.msg).toMatch(/CAP_SYS_ADMIN/);
  });
});
