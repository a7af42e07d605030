// Time from a complete vassal file appearing in the emperor's directory (renamed in) to its unix socket answering
// HTTP 200: a Node app (test/fixtures/workers/serve-on-fd3.mjs), 2 workers. Two ways to drop the file:
// - staged: written beforehand in a staging directory on the same file system, then renamed in, as deploy tools do
//   (scp or rsync to a temp name, then mv). Its mtime is older than the ctime the rename gives it, so the emperor
//   knows it complete and acts without the settle time.
// - at once: written to a temp name in the directory and renamed in the same moment (same clock tick): a stat cannot
//   tell it from a file still being written, so it waits out emperor-settle (50 ms) like one.
// The app's own start is measured twice: as the emperor saw it (its first worker's spawn -> ready, our chain and
// spawns included), and alone: the same app started by socket-holder.py (a small Python process that holds the
// listening socket, as systemd's socket unit would, and forks and execs the app), from the start command to its
// first 200. The goal compares the drop with the app alone.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchEnv, FIXTURES, fmt, get, startEmperor, summary, tempDir, until } from './lib.mjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHolder } from './systemd-socket.mjs';

/** The pause between two rounds (ms), so that each begins on a settled machine. */
const IDLE_MS = 300;

/**
 * The app without a supervisor: `rounds` starts of `processes` serve-on-fd3.mjs at once (as the vassal's workers) by
 * socket-holder.py on a socket it holds, each timed from the start commands to the first 200 (a request sent at once
 * waits in the backlog until the app accepts it), then stopped (SIGTERM), and its exit and IDLE_MS awaited before
 * the next.
 */
export async function appAlone(rounds = 10, processes = 2) {
  const dir = tempDir('bench-app-alone');
  const socketPath = path.join(dir.path, 'app.sock');
  // The emperor's environment (benchEnv: without NODE_EXTRA_CA_CERTS and the like, which slow a Node start).
  const holder = startHolder({ sockets: [{ unix: socketPath }], names: ['app.sock'], argv: [process.execPath, `${FIXTURES}serve-on-fd3.mjs`], baseEnv: benchEnv() });
  const times = [];
  try {
    await holder.listening;
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const started = holder.startMany(processes);
      const answer = await get({ socketPath }, '/', 30_000);
      if (answer.status !== 200) throw new Error(`the app alone answered ${answer.status}`);
      times.push(performance.now() - t0);
      for (const pid of await started) process.kill(pid, 'SIGTERM');
      for (const pid of await started) await holder.exitOf(pid);
      await sleep(IDLE_MS);
    }
  } finally {
    // A round that failed leaves its app running: whatever the holder started and has not seen exit.
    const exited = new Set(holder.events.map((e) => e.exited));
    for (const pid of holder.events.map((e) => e.started).filter((pid) => pid && !exited.has(pid))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await holder.close();
    dir.remove();
  }
  return summary(times);
}

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
      // Each drop finds the emperor idle, not still stopping the last one's workers (as hot-add-trace.mjs does).
      await sleep(IDLE_MS);
    }
  } finally {
    await emperor.stop();
    dir.remove();
  }
  return { ...summary(series.staged), atOnce: summary(series.atOnce), appStart: summary(appStarts), appAlone: await appAlone(rounds, processes) };
}

export function describeDrop(r) {
  return [
    `file dropped (written beforehand, renamed in) -> socket answers 200: ${fmt(r)}`,
    `  written and renamed in the same moment (waits out emperor-settle): ${fmt(r.atOnce)}`,
    `  the app's own start, alone (socket-holder.py starts 2 at once -> 200): ${fmt(r.appAlone)}`,
    `  the app's start as the emperor saw it (first worker spawned -> ready): ${fmt(r.appStart)}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(describeDrop(await dropToServe()));
}
