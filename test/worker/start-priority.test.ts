// nice-until-ready, applied to real processes. Each test spawns detached children (their own session, hence their own
// autogroup) that wait for a line on stdin before they start anything, as a worker's exec chain waits for its setup
// text, and reads the nice value of every thread of the session, and its autogroup's, from /proc.
//
// What runs lowered must need little CPU: on a machine kept busy by other sessions at nice 0, a session at nice 19
// gets a few percent of a CPU, and LOWERED_AT_MOST_MS gives it its priority back whether the test has seen it or not.
// So Node starts (about 0.1 s of CPU) before begin(), and what it does after the line is cheap: start libuv's thread
// pool and two processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { autogroupNiceIn } from '../../src/runtime/autogroup.js';
import { LOWERED_AT_MOST_MS, StartPriority, type StartToken } from '../../src/worker/start-priority.js';
import { autogroupNice, HAS_AUTOGROUP, notAt, sessionCommands, sessionThreads, type ThreadNice } from '../support/nice.js';
import { isRoot } from '../support/test-users.js';

const LOW = 19;
/** What the restored threads get back: this process's own nice value (what the children start at). */
const BASE = getPriority();
const OWN = { threadNice: BASE, autogroupNice: 0 };
const EVERY_START = { nice: LOW, stormSize: 0 };

/**
 * A Node program that prints "waiting" once started (V8's threads are made by then) and, on a line on stdin, starts
 * `sleep 300`, then libuv's thread pool (4 threads, made on the first asynchronous file operation), then
 * `sh -c 'sleep 301 & wait'` (a grandchild), and prints "up". OWN_NICE: after the first sleep, it sets its main
 * thread's nice value to that (as uWSGI's `prio` does), so what it starts from then on inherits that value.
 */
const NODE_TREE = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
process.stdin.once('data', () => {
  spawn('sleep', ['300'], { stdio: 'ignore' });
  if (process.env.OWN_NICE) os.setPriority(Number(process.env.OWN_NICE));
  fs.stat('/', () => spawn('/bin/sh', ['-c', 'sleep 301 & wait'], { stdio: 'ignore' }).once('spawn', () => console.log('up')));
});
console.log('waiting');
setInterval(() => {}, 1 << 30);
`;
const NODE_TREE_COMMANDS = [`${process.execPath} -e ${NODE_TREE}`, 'sleep 300', '/bin/sh -c sleep 301 & wait', 'sleep 301'];
const POOL_THREADS = 4;

/** A shell that starts two sleeps on its line: cheap enough to start at nice 19 on any machine. */
const SH_TREE = ['/bin/sh', '-c', 'read x; sleep 300 & sleep 300 & wait'];
const SH_TREE_COMMANDS = ['/bin/sh -c read x; sleep 300 & sleep 300 & wait', 'sleep 300', 'sleep 300'];

interface Tree {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Not reaped yet: its pid is still its own. */
  readonly alive: () => boolean;
  /** Its stdout and stderr so far. */
  readonly output: () => string;
  /** Writes the line it waits for: only then does it start its children. */
  go(): void;
}

const trees: Tree[] = [];
const begun: [StartPriority, StartToken][] = [];

afterEach(async () => {
  for (const tree of trees.splice(0)) {
    if (tree.alive()) {
      const exited = once(tree.child, 'exit');
      try {
        process.kill(-tree.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await exited;
    }
    // What the tree started is in its process group: gone as well.
    await vi.waitFor(() => expect(sessionCommands(tree.pid)).toEqual([]), { timeout: 5000, interval: 20 });
  }
  // Clears the tokens' timers; the processes are reaped, so nothing is written to their pids.
  for (const [priority, token] of begun.splice(0)) priority.end(token);
});

/** Starts `argv` in a session of its own. */
function spawnTree(argv: readonly string[], env: Record<string, string> = {}): Tree {
  const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  if (child.pid === undefined) throw new Error(`${argv[0]} did not start`);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const tree: Tree = {
    child,
    pid: child.pid,
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => out,
    go: () => child.stdin?.write('go\n'),
  };
  trees.push(tree);
  return tree;
}

/** The Node tree, once it waits for its line: its threads then. */
async function nodeTree(env: Record<string, string> = {}): Promise<{ tree: Tree; startup: ThreadNice[] }> {
  const tree = spawnTree([process.execPath, '-e', NODE_TREE], env);
  await vi.waitFor(() => expect(tree.output()).toContain('waiting\n'), { timeout: 20_000, interval: 20 });
  const startup = sessionThreads(tree.pid);
  expect(notAt(startup, BASE)).toEqual([]);
  return { tree, startup };
}

function begin(priority: StartPriority, tree: Tree, alive = tree.alive): StartToken {
  const token = priority.begin(tree.pid, alive);
  begun.push([priority, token]);
  return token;
}

/**
 * Waits until the tree runs exactly `commands` (its processes' argv) and, when asked, has printed "up"; its threads
 * then. Within LOWERED_AT_MOST_MS of begin(), or the cap may have given the priority back before the test looks.
 */
async function started(tree: Tree, commands: readonly string[], up = false): Promise<ThreadNice[]> {
  const timeout = LOWERED_AT_MOST_MS - 2000;
  await vi
    .waitFor(
      () => {
        if (up) expect(tree.output()).toContain('up\n');
        expect(sessionCommands(tree.pid)).toEqual([...commands].sort());
      },
      { timeout, interval: 20 },
    )
    .catch((err: Error) => {
      throw new Error(`the tree did not start within ${timeout} ms (is the machine too busy for a tree at nice 19?): ${err.message}`);
    });
  return sessionThreads(tree.pid);
}

/** The autogroup nice value of every process in `threads`, when the kernel has autogroups (skipped otherwise). */
function expectAutogroups(threads: readonly ThreadNice[], nice: number): void {
  if (!HAS_AUTOGROUP) return;
  const pids = [...new Set(threads.map((t) => t.pid))];
  expect(pids.map((pid) => [pid, autogroupNice(pid)])).toEqual(pids.map((pid) => [pid, nice]));
}

/**
 * The same, once the code under test has restored it: without CAP_SYS_ADMIN the kernel takes one autogroup change per
 * 100 ms (system-wide), and StartPriority retries a refused one on a timer.
 */
async function expectAutogroupsRestored(threads: readonly ThreadNice[]): Promise<void> {
  await vi.waitFor(() => expectAutogroups(threads, 0), { timeout: 2000, interval: 20 });
}

/** Each thread as `cmd tid: nice`, for comparing whole trees. */
function table(threads: readonly ThreadNice[], nice: (t: ThreadNice) => number | undefined = (t) => t.nice): string[] {
  return threads.map((t) => `${t.cmd.split('\n')[0]} ${t.tid}: ${nice(t)}`);
}

describe('autogroupNiceIn', () => {
  it('reads the nice value of a /proc/PID/autogroup line, and 0 for the empty text of the root autogroup', () => {
    expect(autogroupNiceIn('/autogroup-47155 nice 0\n')).toBe(0);
    expect(autogroupNiceIn('/autogroup-12 nice 19\n')).toBe(19);
    expect(autogroupNiceIn('/autogroup-12 nice -5\n')).toBe(-5);
    // A process in the session of pid 1 (a CI agent's job started without setsid): the emperor's workers must still
    // be lowered and given back nice 0, the root group's weight.
    expect(autogroupNiceIn('')).toBe(0);
  });
});

describe.skipIf(!isRoot)('StartPriority (real processes; root, to give a priority back)', () => {
  it('lowers a just-spawned process, every process and thread it starts afterwards, and its autogroup', async () => {
    const ownAutogroup = autogroupNice('self');
    const priority = new StartPriority(EVERY_START, OWN);
    const { tree, startup } = await nodeTree();

    const token = begin(priority, tree);
    expect(token).toMatchObject({ pid: tree.pid, nice: LOW, autogroup: HAS_AUTOGROUP, ended: false, restored: false });
    tree.go();
    const threads = await started(tree, NODE_TREE_COMMANDS, true);

    // begin() sets the process's main thread, which is all a worker's exec chain is when it is called; threads made
    // before (here Node's own) keep their value, and every thread and process made afterwards inherits the lowered one.
    const before = new Set(startup.map((t) => t.tid));
    expect(threads.filter((t) => !before.has(t.tid)).length).toBeGreaterThanOrEqual(POOL_THREADS + 3);
    expect(table(threads)).toEqual(table(threads, (t) => (before.has(t.tid) && t.tid !== tree.pid ? BASE : LOW)));
    expectAutogroups(threads, LOW);
    // Only the child's autogroup and threads: the caller's own are untouched.
    expect(autogroupNice('self')).toBe(ownAutogroup);
    expect(getPriority()).toBe(BASE);
    expect(priority.starting).toBe(1);
  });

  it('end() gives every thread of the tree and its autogroup the own priority back; a second end() does nothing', async () => {
    const priority = new StartPriority(EVERY_START, OWN);
    const { tree } = await nodeTree();
    const token = begin(priority, tree);
    tree.go();
    const lowered = await started(tree, NODE_TREE_COMMANDS, true);
    expect(lowered.filter((t) => t.nice === LOW).length).toBeGreaterThanOrEqual(POOL_THREADS + 4);

    priority.end(token);
    const threads = sessionThreads(tree.pid);
    expect(threads.map((t) => t.tid).sort()).toEqual(lowered.map((t) => t.tid).sort());
    expect(notAt(threads, BASE)).toEqual([]);
    await expectAutogroupsRestored(threads);
    expect(token).toMatchObject({ ended: true, restored: true });
    expect(priority.starting).toBe(0);

    // Idempotent: no second count off the storm.
    begin(priority, spawnTree(SH_TREE));
    priority.end(token);
    expect(priority.starting).toBe(1);
  });

  it('leaves a thread or process that set a nice value of its own (other than the lowered one) at that value', async () => {
    const priority = new StartPriority(EVERY_START, OWN);
    const { tree } = await nodeTree({ OWN_NICE: '7' });
    const token = begin(priority, tree);
    tree.go();
    const before = await started(tree, NODE_TREE_COMMANDS, true);
    // Node's main thread set itself to 7: the thread pool and the sh started after that have 7; the first sleep 19.
    const main = before.find((t) => t.tid === tree.pid);
    const byCmd = (cmd: string): number | undefined => before.find((t) => t.cmd === cmd)?.nice;
    expect([main?.nice, byCmd('sleep 300'), byCmd('/bin/sh -c sleep 301 & wait'), byCmd('sleep 301')]).toEqual([7, LOW, 7, 7]);
    expect(before.filter((t) => t.nice === 7).length).toBeGreaterThanOrEqual(POOL_THREADS + 3);

    priority.end(token);
    const after = new Map(sessionThreads(tree.pid).map((t) => [t.tid, t.nice]));
    expect(table(before, (t) => after.get(t.tid))).toEqual(table(before, (t) => (t.nice === LOW ? BASE : t.nice)));
    await expectAutogroupsRestored(before);
  });

  it('writes nothing to a process that is no longer alive() (its pid may name another one)', async () => {
    const priority = new StartPriority(EVERY_START, OWN);
    const tree = spawnTree(SH_TREE);
    let alive = true;
    const token = begin(priority, tree, () => alive);
    tree.go();
    await started(tree, SH_TREE_COMMANDS);

    alive = false;
    priority.end(token);
    const threads = sessionThreads(tree.pid);
    expect(threads).toHaveLength(3);
    expect(notAt(threads, LOW)).toEqual([]);
    expectAutogroups(threads, LOW);
    expect(token).toMatchObject({ ended: true, restored: true });
  });

  it('lowers only the starts beyond stormSize, and gives those still starting their priority back when the storm is over', async () => {
    // stormSize 2: a and b start at the own priority, c and d (2 or more others starting) lowered. The storm is over
    // when no more than 2 are starting: once a and b are ready, c and d would each see 1 other, fewer than 2.
    const priority = new StartPriority({ nice: LOW, stormSize: 2 }, OWN);
    const [a, b, c, d] = [spawnTree(SH_TREE), spawnTree(SH_TREE), spawnTree(SH_TREE), spawnTree(SH_TREE)] as [Tree, Tree, Tree, Tree];
    const [ta, tb, tc, td] = [begin(priority, a), begin(priority, b), begin(priority, c), begin(priority, d)];
    expect([ta.nice, tb.nice, tc.nice, td.nice]).toEqual([undefined, undefined, LOW, LOW]);
    for (const tree of [a, b, c, d]) tree.go();
    for (const tree of [a, b]) {
      const threads = await started(tree, SH_TREE_COMMANDS);
      expect(notAt(threads, BASE)).toEqual([]);
      expectAutogroups(threads, 0);
    }
    const lowered = [...(await started(c, SH_TREE_COMMANDS)), ...(await started(d, SH_TREE_COMMANDS))];
    expect(notAt(lowered, LOW)).toEqual([]);
    expectAutogroups(lowered, LOW);

    // a is ready: b, c and d still starting, more than 2: the storm goes on.
    priority.end(ta);
    expect(notAt([...sessionThreads(c.pid), ...sessionThreads(d.pid)], LOW)).toEqual([]);
    expectAutogroups(lowered, LOW);
    // b is ready: c and d are starting, no more than 2: both get their priority back, ready or not.
    priority.end(tb);
    expect(notAt([...sessionThreads(c.pid), ...sessionThreads(d.pid)], BASE)).toEqual([]);
    await expectAutogroupsRestored(lowered);
    expect(tc).toMatchObject({ ended: false, restored: true });
    expect(td).toMatchObject({ ended: false, restored: true });
    expect(priority.starting).toBe(2);
  });

  it('counts no start for a spawn that failed (no pid)', () => {
    const priority = new StartPriority(EVERY_START, OWN);
    const token = priority.begin(undefined, () => false);
    expect(token).toMatchObject({ nice: undefined, ended: true, restored: true });
    expect(priority.starting).toBe(0);
    priority.end(token);
    expect(priority.starting).toBe(0);
  });

  it(
    `gives a lowered process its priority back after LOWERED_AT_MOST_MS (${LOWERED_AT_MOST_MS} ms), ready or not`,
    async () => {
      // stormSize 0 and this one start never ended: the storm is not over, so only the cap can give it back.
      const priority = new StartPriority(EVERY_START, OWN);
      const tree = spawnTree(SH_TREE);
      const begunAt = Date.now();
      const token = begin(priority, tree);
      tree.go();
      expect(notAt(await started(tree, SH_TREE_COMMANDS), LOW)).toEqual([]);

      let restoredAt = 0;
      const threads = await vi.waitFor(
        () => {
          const ts = sessionThreads(tree.pid);
          expect(notAt(ts, BASE)).toEqual([]);
          restoredAt = Date.now();
          return ts;
        },
        { timeout: LOWERED_AT_MOST_MS + 5000, interval: 50 },
      );
      // Not before the cap (a timer never fires early; 5 ms for the clocks' rounding).
      expect(restoredAt - begunAt).toBeGreaterThanOrEqual(LOWERED_AT_MOST_MS - 5);
      expect(threads).toHaveLength(3);
      await expectAutogroupsRestored(threads);
      expect(token).toMatchObject({ ended: false, restored: true });
      // Its end comes later and only counts it off the storm.
      priority.end(token);
      expect(priority.starting).toBe(0);
    },
    LOWERED_AT_MOST_MS + 10_000,
  );
});
