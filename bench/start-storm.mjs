// Serving during a start storm: one vassal (vassals.example/apps/hello.mjs, 2 workers, a TCP socket) answers wrk
// (1 thread, 16 connections) while a fleet of VASSALS x WORKERS Node workers (bench/workers/idle.mjs, as in the scale
// workload) is renamed into the directory at once, one second into the load. Run per emperor setting (by default
// nice-until-ready 19, the default as root, and 0, the rule off) and once without the fleet (the baseline: the same
// load with nothing starting). Prints, for the load window: requests per second, p50 and p99 latency, failures; and
// when the fleet was all spawned and all ready, counted from the rename.
// Run: npm run build && node bench/start-storm.mjs [VASSALS] [WORKERS] [SECONDS]
import { spawn } from 'node:child_process';
import { mkdirSync, renameSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './nginx.mjs';
import { get, killAll, ROOT, startEmperor, tempDir, until } from './lib.mjs';
import { WRK, parseWrk } from './reload-under-load.mjs';
import { writeFleet } from './scale.mjs';

/** wrk with one thread (the machine has two cores: the rest is for the emperor, the app and the storm). */
function wrkRun(url, seconds, connections) {
  return new Promise((resolve, reject) => {
    const child = spawn(WRK, ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '--latency', url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', () => resolve(parseWrk(out)));
  });
}

/**
 * One run. `nice`: the emperor's nice-until-ready (undefined: its default); `fleet`: false for the baseline.
 * Resolves with wrk's figures and, with a fleet, spawnedMs/readyMs from the rename (undefined if not reached
 * within the deadline), and the emperor's warnings and errors.
 */
export async function startStorm({ nice, fleet = true, vassals = 100, workers = 2, seconds = 20, connections = 16 } = {}) {
  if (!WRK) return { skipped: 'needs wrk (apt-get install wrk)' };
  const dir = tempDir('bench-start-storm');
  const vassalDir = path.join(dir.path, 'vassals');
  const port = await freePort();
  const staged = fleet ? writeFleet({ vassals, workers }) : undefined;
  mkdirSync(vassalDir);
  writeFileSync(
    path.join(vassalDir, 'serve.ini'),
    ['[uwsgi]', `command = ${process.execPath} ${ROOT}vassals.example/apps/hello.mjs`, 'processes = 2', `socket = 127.0.0.1:${port}`, 'notification-fd = auto', ''].join('\n'),
  );
  const total = vassals * workers;
  const state = { spawned: 0, ready: 0, lastSpawnAt: 0, lastReadyAt: 0, serving: 0, problems: [] };
  const pids = new Set();
  const onRecord = (r) => {
    if (r.event === 'worker.spawn') pids.add(r.pid);
    const ours = r.vassal !== 'serve.ini';
    if (r.event === 'worker.spawn' && ours) {
      state.spawned++;
      state.lastSpawnAt = r.receivedAt;
    } else if (r.event === 'worker.ready') {
      if (!ours) state.serving++;
      else {
        state.ready++;
        state.lastReadyAt = r.receivedAt;
      }
    } else if ((r.level === 'warn' || r.level === 'error') && state.problems.length < 5) state.problems.push(`${r.event}: ${r.msg}`);
  };
  const args = ['--emperor', vassalDir, ...(nice === undefined ? [] : ['--nice-until-ready', String(nice)])];
  const emperor = startEmperor(args, {}, { onRecord });
  const result = { nice: nice ?? 'default', fleet, vassals, workers, seconds, connections };
  try {
    await until(() => state.serving >= 2, 60_000, 20);
    await until(async () => (await get({ host: '127.0.0.1', port })).status === 200, 30_000, 20);
    const load = wrkRun(`http://127.0.0.1:${port}/`, seconds, connections);
    let droppedAt;
    if (staged) {
      await sleep(1000);
      droppedAt = performance.now();
      for (const name of readdirSync(staged.vassalDir)) renameSync(path.join(staged.vassalDir, name), path.join(vassalDir, name));
    }
    Object.assign(result, await load);
    if (staged) {
      await until(() => state.ready >= total, 180_000, 20).catch(() => undefined);
      result.spawnedMs = state.spawned >= total ? state.lastSpawnAt - droppedAt : undefined;
      result.readyMs = state.ready >= total ? state.lastReadyAt - droppedAt : undefined;
      result.readyWithinLoad = state.ready >= total && state.lastReadyAt - droppedAt <= (seconds - 1) * 1000;
    }
    result.problems = state.problems;
    return result;
  } finally {
    await emperor.stop();
    killAll(pids);
    staged?.remove();
    dir.remove();
  }
}

/** The figures in words. */
export function describeStartStorm(r) {
  if (r.skipped) return `start storm: skipped: ${r.skipped}`;
  const s = (ms) => (ms === undefined ? 'not reached' : `${(ms / 1000).toFixed(2)} s`);
  const what = r.fleet ? `nice-until-ready ${r.nice}, ${r.vassals} x ${r.workers} Node workers dropped 1 s in` : 'baseline, nothing starting';
  return [
    `${what}: ${r.perSecond.toFixed(0)} requests/s, p50 ${r.p50Ms?.toFixed(2)} ms, p99 ${r.p99Ms?.toFixed(2)} ms, ${r.non2xx + r.socketErrors} failed (${r.seconds} s, ${r.connections} connections)`,
    ...(r.fleet ? [`  fleet all spawned ${s(r.spawnedMs)}, all ready ${s(r.readyMs)} after the drop${r.readyWithinLoad ? '' : ' (after the load window ended)'}`] : []),
    ...(r.problems.length ? [`  warnings/errors: ${r.problems.join('; ')}`] : []),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [vassals = '100', workers = '2', seconds = '20'] = process.argv.slice(2);
  const common = { vassals: Number(vassals), workers: Number(workers), seconds: Number(seconds) };
  for (const run of [{ fleet: false }, { nice: 19 }, { nice: 0 }]) console.log(describeStartStorm(await startStorm({ ...common, ...run })));
}
