import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { parseStatFigures, sampleProcesses, workerUsage } from '../../src/control/process-figures.js';
import { table } from './facts.js';

describe('parseStatFigures', () => {
  it('reads state, process group, CPU ticks and RSS pages, counting fields after the last ")" of the command name', () => {
    // A command name with spaces and parentheses, as a worker may choose (prctl PR_SET_NAME).
    const line = '4711 (my (odd) app) S 1 4711 4711 0 -1 4194560 1000 0 0 0 150 30 7 3 20 0 1 0 123456 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0';
    expect(parseStatFigures(4711, line)).toEqual({ pid: 4711, state: 'S', pgrp: 4711, utime: 150, stime: 30, cutime: 7, cstime: 3, rssPages: 2560 });
  });

  it('refuses a line without its fields', () => {
    expect(parseStatFigures(1, '1 (x) S 0 1')).toBeUndefined();
    expect(parseStatFigures(1, 'garbage')).toBeUndefined();
  });
});

describe('workerUsage', () => {
  it('counts the worker alone, and its live process group with what its members reaped; not zombies, not other groups', () => {
    const processes = table([
      [10, 10, 100, 40, 60],
      [11, 10, 50, 10],
      [12, 12, 999, 999],
    ]);
    expect(workerUsage(processes, 10)).toEqual({
      self: { processes: 1, rssBytes: 100 * 4096, cpuSeconds: 0.4 },
      group: { processes: 2, rssBytes: 150 * 4096, cpuSeconds: 1.1 },
    });
    expect(workerUsage(processes, 13)).toEqual({ self: undefined, group: undefined });
    expect(workerUsage(processes, undefined)).toEqual({ self: undefined, group: undefined });
  });
});

describe('sampleProcesses (the real /proc)', () => {
  it('finds a real process group with its child, and this process with the resident memory /proc/self/status gives', async () => {
    // A leader in its own session that starts a child in its group, both holding memory.
    const leader = spawn(process.execPath, ['-e', "const {spawn}=require('child_process');const c=spawn(process.execPath,['-e','const b=Buffer.alloc(32<<20,1);setInterval(()=>b.length,1e9)'],{stdio:'ignore'});console.log(c.pid);setInterval(()=>{},1e9)"], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const child = await new Promise<number>((resolve) => leader.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
      const usage = await vi.waitFor(async () => {
        const u = workerUsage(await sampleProcesses(), leader.pid);
        expect(u.group?.processes).toBe(2);
        expect(u.group!.rssBytes - u.self!.rssBytes).toBeGreaterThan(32 << 20);
        return u;
      }, { timeout: 20_000, interval: 100 });
      expect(child).toBeGreaterThan(0);
      expect(usage.self!.cpuSeconds).toBeGreaterThanOrEqual(0);

      const table = await sampleProcesses();
      const own = workerUsage(table, process.pid).self!;
      const vmRss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
      // Sampled a moment apart: within 20 %.
      expect(Math.abs(own.rssBytes - vmRss) / vmRss).toBeLessThan(0.2);
      expect(table.pageSize % 4096).toBe(0);
    } finally {
      process.kill(-leader.pid!, 'SIGKILL');
    }
  });
});
