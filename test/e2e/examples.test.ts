import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { EmperorProcess } from '../support/emperor.js';
import { get } from '../support/http.js';
import { freePort } from '../support/nginx.js';
import { sandbox } from '../support/sandbox.js';

const EXAMPLES = fileURLToPath(new URL('../../vassals.example/', import.meta.url));

const dir = sandbox();
let emperor: EmperorProcess | undefined;
let port = 0;

beforeEach(async () => {
  await cp(EXAMPLES, dir.path, { recursive: true });
  // The example's fixed port may be in use on this machine (npm start): move it.
  port = await freePort();
  const status = path.join(dir.path, 'status.ini');
  await writeFile(status, (await readFile(status, 'utf8')).replace('127.0.0.1:8731', `127.0.0.1:${port}`));
});


describe('vassals.example', () => {
  it('serves both example apps, each worker announcing readiness itself', async () => {
    emperor = new EmperorProcess(['--emperor', dir.path]);
    const hello = await vi.waitFor(() => get({ socketPath: path.join(dir.path, 'hello.sock') }), { timeout: 20_000, interval: 50 });
    expect(hello.body).toMatch(/^Hello from hello\.ini, worker [12], pid \d+\n$/);
    const status = await vi.waitFor(() => get({ host: '127.0.0.1', port }), { timeout: 20_000, interval: 50 });
    expect(JSON.parse(status.body)).toMatchObject({ vassal: 'status.ini', generation: 1 });
    await vi.waitFor(() => expect(emperor!.events('worker.ready')).toHaveLength(4), { timeout: 20_000 });
    // Each worker said so itself, on its notification fd (no uptime fallback).
    for (const r of emperor.events('worker.ready')) expect(r.by).toBe('fd');
  });

  it('finishes a request in flight when its worker is stopped, and exits without needing SIGKILL', async () => {
    const ini = path.join(dir.path, 'hello.ini');
    await writeFile(ini, `${await readFile(ini, 'utf8')}env = ACCESS_LOG=1\n`);
    emperor = new EmperorProcess(['--emperor', dir.path]);
    const socketPath = path.join(dir.path, 'hello.sock');
    await emperor.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'hello.ini');

    const slow = get({ socketPath }, '/?delay=800');
    // In flight: a worker has read the request (its access log says so) and is still answering.
    await emperor.waitForLog((r) => r.event === 'worker.output' && r.msg === 'GET /?delay=800');
    await rm(ini);
    await emperor.waitForLog((r) => r.event === 'worker.stop' && r.vassal === 'hello.ini');
    const answer = await slow;
    expect(answer.status).toBe(200);
    await emperor.waitForLog((r) => r.event === 'vassal.stopped' && r.vassal === 'hello.ini');
    const exits = emperor.events('worker.exit', 'hello.ini');
    expect(exits.map((r) => [r.code, r.forced])).toEqual([
      [0, false],
      [0, false],
    ]);
  });
});
