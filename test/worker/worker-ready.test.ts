// Worker readiness against its ready-timeout, with a real child and a real pipe.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Worker } from '../../src/worker/worker.js';

let worker: Worker | undefined;
let dir: string | undefined;

afterEach(async () => {
  await worker?.stop('SIGTERM', 2000);
  worker = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/**
 * A worker that makes the file `started`, waits for the file `go`, then says it is ready (a newline on
 * NOTIFICATION_FD) and makes the file `wrote`.
 */
const READY_ON_GO = `
const fs = require('fs');
fs.writeFileSync('started', '');
const wait = setInterval(() => {
  if (!fs.existsSync('go')) return;
  clearInterval(wait);
  fs.writeSync(Number(process.env.NOTIFICATION_FD), '\\n');
  fs.writeFileSync('wrote', '');
}, 10);
setInterval(() => {}, 1 << 30);
`;

describe('Worker readiness', () => {
  it('counts a readiness that arrived in time as ready, though the emperor comes back to it only after the deadline', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sv-worker-'));
    const at = (name: string): string => path.join(dir!, name);
    // Long enough for the program to start on a busy machine; the test takes this long.
    const readyTimeoutMs = 6000;
    worker = new Worker(
      {
        launch: { argv: [process.execPath, '-e', READY_ON_GO], cwd: dir, baseEnv: { PATH: process.env.PATH }, env: {}, sockets: [], notificationFd: 3, vassal: 'ready.ini', workerId: 1, generation: 1 },
        readiness: { kind: 'fd' },
        readyTimeoutMs,
      },
      pino({ level: 'silent' }),
    );
    await vi.waitFor(() => expect(existsSync(at('started'))).toBe(true), { timeout: readyTimeoutMs - 500, interval: 20 });
    // The emperor held up (as by a storm of synchronous spawns) until after the deadline: the worker says it is ready
    // meanwhile, in time, and its newline waits unread in the pipe when the expired timer runs.
    // Blocked in the loop's check phase (after its poll), as by spawns made on a file event: when the loop comes
    // round, its timers run before it polls the pipe again.
    const started = worker.startedAt;
    const wrote = await new Promise<boolean>((resolve) =>
      setImmediate(() => {
        writeFileSync(at('go'), '');
        const blockedAt = Date.now();
        while (Date.now() - blockedAt < 30_000 && (Date.now() - started < readyTimeoutMs + 200 || !existsSync(at('wrote'))));
        resolve(existsSync(at('wrote')));
      }),
    );
    expect(wrote).toBe(true);
    expect(await worker.ready).toEqual({ ok: true });
  });

  it("starts the clock when the worker has its setup text: an emperor held up past the deadline right after the spawn doesn't time it out", async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sv-worker-'));
    const readyTimeoutMs = 3000;
    const program = "require('fs').writeSync(Number(process.env.NOTIFICATION_FD), '\\n'); setInterval(() => {}, 1 << 30);";
    // Spawned, then the loop blocked (as by the rest of a storm's spawns): the chain waits for the end of its setup
    // text until the loop comes round, past the deadline counted from the spawn.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        worker = new Worker(
          {
            launch: { argv: [process.execPath, '-e', program], cwd: dir!, baseEnv: { PATH: process.env.PATH }, env: {}, sockets: [], notificationFd: 3, vassal: 'late.ini', workerId: 1, generation: 1 },
            readiness: { kind: 'fd' },
            readyTimeoutMs,
          },
          pino({ level: 'silent' }),
        );
        const blockedAt = Date.now();
        while (Date.now() - blockedAt < readyTimeoutMs + 1000);
        resolve();
      }),
    );
    expect(await worker!.ready).toEqual({ ok: true });
  });

  it('counts ready-after (uptime readiness) from the delivery of the setup text, not from the spawn', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sv-worker-'));
    const blockMs = 1500;
    const afterMs = 500;
    // As above: spawned, then the loop held up, so the chain gets the end of its setup text only after blockMs.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        worker = new Worker(
          {
            launch: { argv: [process.execPath, '-e', 'setInterval(() => {}, 1 << 30)'], cwd: dir!, baseEnv: { PATH: process.env.PATH }, env: {}, sockets: [], vassal: 'uptime.ini', workerId: 1, generation: 1 },
            readiness: { kind: 'uptime', afterMs },
            readyTimeoutMs: 30_000,
          },
          pino({ level: 'silent' }),
        );
        const blockedAt = Date.now();
        while (Date.now() - blockedAt < blockMs);
        resolve();
      }),
    );
    expect(await worker!.ready).toEqual({ ok: true });
    expect(Date.now() - worker!.startedAt).toBeGreaterThanOrEqual(blockMs + afterMs);
  });

  it('times out a worker that does not say it is ready', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sv-worker-'));
    worker = new Worker(
      {
        launch: { argv: [process.execPath, '-e', 'setInterval(() => {}, 1 << 30)'], cwd: dir, baseEnv: { PATH: process.env.PATH }, env: {}, sockets: [], notificationFd: 3, vassal: 'never.ini', workerId: 1, generation: 1 },
        readiness: { kind: 'fd' },
        readyTimeoutMs: 300,
      },
      pino({ level: 'silent' }),
    );
    expect(await worker.ready).toMatchObject({ ok: false, reason: 'timeout', afterMs: expect.any(Number) });
  });
});
