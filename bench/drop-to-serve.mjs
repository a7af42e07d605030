// Time from a complete vassal file appearing in the emperor's directory (renamed in) to its unix socket answering
// HTTP 200: a Node app (test/fixtures/workers/serve-on-fd3.mjs), 2 workers. Two ways to drop the file:
// - staged: written beforehand in a staging directory on the same file system, then renamed in, as deploy tools do
//   (scp or rsync to a temp name, then mv). Its mtime is older than the ctime the rename gives it, so the emperor
//   knows it complete and acts without the settle time.
// - at once: written to a temp name in the directory and renamed in the same moment (same clock tick): a stat cannot
//   tell it from a file still being written, so it waits out emperor-settle (50 ms) like one.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, fmt, get, startEmperor, summary, tempDir, until } from './lib.mjs';

function vassalText(i, processes) {
  return ['[uwsgi]', `command = ${process.execPath} ${FIXTURES}serve-on-fd3.mjs`, `processes = ${processes}`, `socket = app${i}.sock`, 'notification-fd = auto', 'vacuum = true', ''].join('\n');
}

export async function dropToServe(rounds = 10, processes = 2) {
  const dir = tempDir('bench-drop');
  // Hidden, and not a vassal directory: the emperor watches only dir.path itself.
  const staging = path.join(dir.path, '.staging');
  mkdirSync(staging);
  const emperor = startEmperor(['--emperor', dir.path]);
  await until(() => emperor.records.some((r) => r.event === 'emperor.start'));
  const series = { staged: [], atOnce: [] };
  const appStarts = [];
  try {
    // Every staged file is uploaded first; each round then renames one in.
    for (let i = 0; i < rounds; i++) writeFileSync(path.join(staging, `app${i}.ini`), vassalText(i, processes));
    for (let i = 0; i < 2 * rounds; i++) {
      const staged = i < rounds;
      const name = `app${i}.ini`;
      const socketPath = path.join(dir.path, `app${i}.sock`);
      let from = path.join(staging, name);
      if (!staged) {
        from = path.join(dir.path, `.app${i}.tmp`);
        writeFileSync(from, vassalText(i, processes));
      }
      const t0 = performance.now();
      renameSync(from, path.join(dir.path, name));
      await until(async () => (await get({ socketPath })).status === 200, 30_000, 1);
      (staged ? series.staged : series.atOnce).push(performance.now() - t0);
      // The app's own start, as the emperor saw it: its first worker's spawn -> ready (worker.ready afterMs).
      const ready = await until(() => emperor.records.find((r) => r.event === 'worker.ready' && r.vassal === name));
      appStarts.push(ready.afterMs);
      rmSync(path.join(dir.path, name));
      await until(() => !existsSync(socketPath));
    }
  } finally {
    await emperor.stop();
    dir.remove();
  }
  return { ...summary(series.staged), atOnce: summary(series.atOnce), appStart: summary(appStarts) };
}

export function describeDrop(r) {
  return [
    `file dropped (written beforehand, renamed in) -> socket answers 200: ${fmt(r)}`,
    `  written and renamed in the same moment (waits out emperor-settle): ${fmt(r.atOnce)}`,
    `  the app's own start (first worker spawned -> ready): ${fmt(r.appStart)}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(describeDrop(await dropToServe()));
}
