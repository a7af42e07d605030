// When a worker's exec chain is let run its program: at once outside a start storm, when the event loop comes round
// (after the batch of spawns) in one. Real chains (setpriv, sh), watched through /proc while this thread is held.
import { readFileSync, readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StartPriority } from '../../src/worker/start-priority.js';
import { Worker } from '../../src/worker/worker.js';

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL', 2000)));
});

const OWN = { threadNice: getPriority(), autogroupNice: 0 };

function start(priority: StartPriority): Worker {
  const worker = new Worker(
    {
      launch: { argv: ['/bin/sleep', '300'], cwd: '/', baseEnv: { PATH: '/usr/bin:/bin' }, env: {}, sockets: [], vassal: 'go.ini', workerId: workers.length + 1, generation: 1 },
      readiness: { kind: 'uptime', afterMs: 0 },
      readyTimeoutMs: 60_000,
      startPriority: priority,
    },
    pino({ level: 'silent' }),
  );
  workers.push(worker);
  return worker;
}

/** The program /proc/PID/exe names, or '' once the process is gone. */
function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/** Polls `check` without ever yielding to the event loop, up to `ms`; true once it held. */
function holdUntil(check: () => boolean, ms: number): boolean {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) if (check()) return true;
  return false;
}

describe('the go-ahead of a worker chain', () => {
  it('outside a start storm: the program runs while the emperor is still busy in the same turn of its loop', () => {
    const worker = start(new StartPriority({ nice: 0, stormSize: 2 }, OWN));
    const pid = worker.pid!;
    // Nothing of this thread's event loop runs meanwhile: the pipe was closed in the constructor.
    expect(holdUntil(() => exeOf(pid).endsWith('/sleep'), 30_000)).toBe(true);
  });

  it('counts as a storm start only a worker begun while stormSize others are starting', () => {
    const priority = new StartPriority({ nice: 0, stormSize: 1 }, OWN);
    // With nice 0 nothing is written to the process, so this process's own pid will do.
    const alive = () => true;
    const first = priority.begin(process.pid, alive);
    const second = priority.begin(process.pid, alive);
    expect([first.storm, second.storm]).toEqual([false, true]);
    priority.end(second);
    priority.end(first);
    expect(priority.begin(process.pid, alive).storm).toBe(false);
  });

  it('in a start storm: the chain waits in its shell for the end of file, which comes when the loop comes round', async () => {
    const worker = start(new StartPriority({ nice: 0, stormSize: 0 }, OWN));
    const pid = worker.pid!;
    // Blocked in read(2) on fd 0 (syscall 0 on x86-64, 63 on arm64), in the shell, while this thread is held.
    const waiting = () => exeOf(pid).endsWith('sh') && /^(0|63) 0x0 /.test(readFileSync(`/proc/${pid}/syscall`, 'utf8'));
    expect(holdUntil(waiting, 30_000)).toBe(true);
    await vi.waitFor(() => expect(exeOf(pid)).toMatch(/\/sleep$/), { timeout: 30_000, interval: 20 });
  });
});
