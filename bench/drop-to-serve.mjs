// Time from a complete vassal file appearing in the emperor's directory (renamed in) to its unix socket answering
// HTTP 200: a Node app (test/fixtures/workers/serve-on-fd3.mjs), 2 workers.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, fmt, get, startEmperor, summary, tempDir, until } from './lib.mjs';

export async function dropToServe(rounds = 10, processes = 2) {
  const dir = tempDir('bench-drop');
  const emperor = startEmperor(['--emperor', dir.path]);
  await until(() => emperor.records.some((r) => r.event === 'emperor.start'));
  const timings = [];
  const appStarts = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const socketPath = path.join(dir.path, `app${i}.sock`);
      const ini = ['[uwsgi]', `command = ${process.execPath} ${FIXTURES}serve-on-fd3.mjs`, `processes = ${processes}`, `socket = app${i}.sock`, 'notification-fd = auto', 'vacuum = true', ''].join('\n');
      // Written elsewhere and renamed in, as deploy tools do, so the file appears complete.
      const tmp = path.join(dir.path, `.app${i}.tmp`);
      writeFileSync(tmp, ini);
      const t0 = performance.now();
      renameSync(tmp, path.join(dir.path, `app${i}.ini`));
      await until(async () => (await get({ socketPath })).status === 200, 30_000, 1);
      timings.push(performance.now() - t0);
      // The app's own start, as the emperor saw it: its first worker's spawn -> ready (worker.ready afterMs).
      const ready = await until(() => emperor.records.find((r) => r.event === 'worker.ready' && r.vassal === `app${i}.ini`));
      appStarts.push(ready.afterMs);
      rmSync(path.join(dir.path, `app${i}.ini`));
      await until(() => !existsSync(socketPath));
    }
  } finally {
    await emperor.stop();
    dir.remove();
  }
  return { ...summary(timings), appStart: summary(appStarts) };
}

export function describeDrop(r) {
  return `file dropped -> socket answers 200: ${fmt(r)}\n  the app's own start (first worker spawned -> ready): ${fmt(r.appStart)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(describeDrop(await dropToServe()));
}
