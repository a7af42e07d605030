import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmperorProcess, fixtureCommand, type LogRecord, vassalIni } from '../support/emperor.js';
import { serveIni } from '../support/serving.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();
let emperor: EmperorProcess | undefined;

/** After the recycle of `old`: its successor spawned, became ready, and only then was `old` stopped. */
function expectReadyFirst(e: EmperorProcess, recycle: LogRecord): void {
  const after = e.records.slice(e.records.indexOf(recycle));
  const spawn = after.findIndex((r) => r.event === 'worker.spawn');
  const successor = after[spawn]?.pid;
  const ready = after.findIndex((r) => r.event === 'worker.ready' && r.pid === successor);
  const stop = after.findIndex((r) => r.event === 'worker.stop' && r.pid === recycle.pid);
  expect(spawn).toBeGreaterThan(0);
  expect(ready).toBeGreaterThan(spawn);
  expect(stop).toBeGreaterThan(ready);
}

describe('recycling', () => {
  it('replaces a worker after max-worker-lifetime, its successor ready first', async () => {
    await writeFile(path.join(dir.path, 'app.ini'), serveIni('app.sock', { processes: 1, 'max-worker-lifetime': 1 }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    const recycle = await emperor.waitForLog((r) => r.event === 'worker.recycle');
    expect(recycle.reason).toBe('max-worker-lifetime');
    await emperor.waitForLog((r) => r.event === 'worker.exit' && r.pid === recycle.pid);
    expectReadyFirst(emperor, recycle);
    expect(emperor.events('worker.died')).toEqual([]);
  });

  it('replaces a worker whose resident memory exceeds reload-on-rss (MB), its successor ready first', async () => {
    await writeFile(
      path.join(dir.path, 'fat.ini'),
      vassalIni({ command: fixtureCommand('grow'), env: 'GROW_MB=96', 'reload-on-rss': 48, 'ready-after': 0.2 }),
    );
    emperor = new EmperorProcess(['--emperor', dir.path]);
    const recycle = await emperor.waitForLog((r) => r.event === 'worker.recycle');
    expect(recycle.reason).toBe('reload-on-rss');
    expect(recycle.msg).toMatch(/\d+ MB resident, limit 48 MB/);
    await emperor.waitForLog((r) => r.event === 'worker.exit' && r.pid === recycle.pid);
    expectReadyFirst(emperor, recycle);
  });
});
