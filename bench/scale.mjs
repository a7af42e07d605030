// Scale: N vassals x W workers of a small idle program, started at once by one emperor. Measures, from the moment the
// emperor is started: all workers spawned, all ready; the floor for "all ready" (the workers' own CPU from fork to
// ready, summed, divided by the cores: no supervisor can have them all ready sooner); the emperor's CPU spent on the
// start; its RSS and PSS; its CPU while idle (per 30 s); a SIGHUP reload of everything (until every vassal has logged
// vassal.reloaded); and the stop (SIGTERM until the emperor has exited).
// Programs: `node` (bench/workers/idle.mjs: ready on NOTIFICATION_FD, then idle) or `sleep` (/bin/sleep, ready at
// once by uptime). Every vassal has a unix socket (as a real fleet does; each start binds one). With `tyrant`, the
// vassal files belong to the test user (svtest-worker), the emperor runs with --emperor-tyrant.
// Times are when this process read the emperor's log record (receivedAt), so both peers are timed alike. Ours are also
// given by the records' own times (`time`, the emperor's clock, in ms): in a storm of starting workers this process
// shares its CPU with the emperor and can read a record tens of seconds after it was written (1,000 x 1 Node: the
// last spawn record read about 37 s after the emperor logged it, bench/PROFILE.md). uWSGI's lines carry no such time.
// Run: npm run build && node bench/scale.mjs [VASSALS] [WORKERS] [node|sleep] [tyrant]
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cpuMs, descendants, GiveUp, killAll, memoryKiB, startEmperor, tempDir, until } from './lib.mjs';

export const IDLE_WORKER = fileURLToPath(new URL('workers/idle.mjs', import.meta.url));
export const TENANT = 'svtest-worker';

/** uid and gid of the test tenant, or undefined when the account does not exist (the test suite creates it as root). */
export function tenantAccount(name = TENANT) {
  try {
    const [, , uid, gid] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
    return { name, uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/**
 * Writes a fleet into a fresh temp dir: `vassals/vNNNN.ini` (each `workers` workers of `program`, one unix socket in
 * `sockets/`), and a copy of the idle worker readable by anyone. With `tenant`, the vassal files and the socket
 * directory belong to the tenant, and everything above them to root (tyrant mode's rules). Returns the paths and
 * the remover.
 */
export function writeFleet({ vassals, workers, program = 'node', tenant }) {
  const dir = tempDir('bench-scale');
  chmodSync(dir.path, 0o755);
  const vassalDir = path.join(dir.path, 'vassals');
  const socketDir = path.join(dir.path, 'sockets');
  mkdirSync(vassalDir, { mode: 0o755 });
  mkdirSync(socketDir, { mode: 0o755 });
  if (tenant) chownSync(socketDir, tenant.uid, tenant.gid);
  const idle = path.join(dir.path, 'idle.mjs');
  copyFileSync(IDLE_WORKER, idle);
  chmodSync(idle, 0o644);
  const command = program === 'node' ? `${process.execPath} ${idle}` : '/bin/sleep 3600';
  const readiness = program === 'node' ? 'notification-fd = auto' : 'ready-after = 0';
  const width = String(vassals - 1).length;
  for (let i = 0; i < vassals; i++) {
    const name = `v${String(i).padStart(width, '0')}`;
    const file = path.join(vassalDir, `${name}.ini`);
    writeFileSync(file, ['[uwsgi]', `command = ${command}`, `processes = ${workers}`, `socket = ${socketDir}/${name}.sock`, readiness, 'vacuum = true', ''].join('\n'));
    if (tenant) chownSync(file, tenant.uid, tenant.gid);
  }
  return { dir: dir.path, vassalDir, socketDir, remove: dir.remove };
}

/**
 * Runs the scale workload once against the supervisor. `idleSeconds`: the idle window (the figure is scaled to 30 s).
 * `nodeArgs`: options for the emperor's Node (profiling). Resolves with the figures (ms, KiB) and what went wrong.
 */
export async function scaleSupervisor({ vassals = 100, workers = 2, program = 'node', tyrant = false, idleSeconds = 30, nodeArgs = [], emperorArgs = [] } = {}) {
  const tenant = tyrant ? tenantAccount() : undefined;
  if (tyrant && !tenant) return { skipped: `tyrant mode needs the test user ${TENANT} (the test suite creates it when run as root)` };
  const fleet = writeFleet({ vassals, workers, program, tenant });
  const total = vassals * workers;
  // Counted per worker slot (vassal and worker number) of the first generation, so that a worker killed and started
  // again (ready-timeout) counts once: "all ready" means every slot has a live, ready worker.
  const state = { spawnedSlots: new Set(), readySlots: new Set(), restarts: 0, lastSpawnAt: 0, lastReadyAt: 0, lastSpawnTime: 0, lastReadyTime: 0, workerCpuMs: 0, cpuUnread: 0, reloaded: new Set(), lastReloadedAt: 0, problems: [], problemCounts: {} };
  const pids = new Set();
  const onRecord = (r) => {
    const slot = `${r.vassal}/${r.worker}`;
    if (r.event === 'worker.spawn') {
      pids.add(r.pid);
      if (r.generation === 1) {
        if (state.spawnedSlots.has(slot)) state.restarts++;
        state.spawnedSlots.add(slot);
        if (state.spawnedSlots.size === total && !state.lastSpawnAt) {
          state.lastSpawnAt = r.receivedAt;
          state.lastSpawnTime = Date.parse(r.time);
        }
      }
    } else if (r.event === 'worker.exit' && r.generation === 1) {
      state.readySlots.delete(slot);
    } else if (r.event === 'worker.ready' && r.generation === 1) {
      state.readySlots.add(slot);
      state.lastReadyAt = r.receivedAt;
      state.lastReadyTime = Date.parse(r.time);
      // The worker is idle from here on, so its CPU read now is its CPU until ready (plus this read's lag).
      const cpu = cpuMs(r.pid);
      if (cpu === undefined) state.cpuUnread++;
      else state.workerCpuMs += cpu;
    } else if (r.event === 'vassal.reloaded') {
      state.reloaded.add(r.vassal);
      state.lastReloadedAt = r.receivedAt;
    } else if (r.level === 'error' || r.level === 'fatal' || r.level === 'warn') {
      const event = r.event ?? r.level;
      state.problemCounts[event] = (state.problemCounts[event] ?? 0) + 1;
      if (state.problems.length < 5) state.problems.push(`${event}: ${r.msg}`);
    }
  };
  const deadline = Math.max(120_000, total * 600);
  const started = performance.now();
  // The same moment on the wall clock, which the emperor's records are stamped with.
  const launchedAt = Date.now();
  const emperor = startEmperor(['--emperor', fleet.vassalDir, ...(tyrant ? ['--emperor-tyrant'] : []), ...emperorArgs], {}, { nodeArgs, onRecord });
  let exited = false;
  emperor.exited.then(() => (exited = true));
  const alive = () => {
    if (exited) throw new GiveUp(`the emperor exited early: ${state.problems.join('; ')}`);
    return true;
  };
  const progress = () =>
    `after ${((performance.now() - started) / 1000).toFixed(0)} s: ${state.spawnedSlots.size} of ${total} workers spawned, ${state.readySlots.size} ready (${state.restarts} restarts), ${state.reloaded.size} vassals reloaded; ` +
    `warnings/errors: ${Object.entries(state.problemCounts).map(([e, n]) => `${n} ${e}`).join(', ') || 'none'}`;
  // A line a minute, so that a long start shows its rate.
  const ticker = setInterval(() => console.log(`  (scale ${vassals}x${workers} ${program}${tyrant ? ' tyrant' : ''}: ${progress()})`), 60_000);
  const result = { vassals, workers, program, tyrant, dir: fleet.dir };
  try {
    await until(() => alive() && state.spawnedSlots.size >= total, deadline, 20);
    result.spawnedMs = state.lastSpawnAt - started;
    result.spawnedOwnMs = state.lastSpawnTime - launchedAt;
    await until(() => alive() && state.readySlots.size >= total, deadline, 20);
    result.readyMs = state.lastReadyAt - started;
    result.readyOwnMs = state.lastReadyTime - launchedAt;
    result.restarts = state.restarts;
    result.emperorStartCpuMs = cpuMs(emperor.child.pid);
    result.workerCpuMs = state.workerCpuMs;
    result.floorMs = state.workerCpuMs / cpus().length;
    result.cpuUnread = state.cpuUnread;

    // Idle: let the start's garbage be collected, then the emperor's CPU over the window, then its memory.
    await sleep(3000);
    const before = cpuMs(emperor.child.pid);
    await sleep(idleSeconds * 1000);
    const between = cpuMs(emperor.child.pid);
    result.idleCpuMsPer30s = ((between - before) * 30) / idleSeconds;
    result.idleSeconds = idleSeconds;
    // The same window again: the first one still holds the start's aftermath (V8 collects the start's garbage a few
    // seconds after allocation stops); this one is what an emperor costs for as long as it stays idle.
    await sleep(idleSeconds * 1000);
    result.laterIdleCpuMsPer30s = ((cpuMs(emperor.child.pid) - between) * 30) / idleSeconds;
    Object.assign(result, memoryKiB(emperor.child.pid));
    const all = [emperor.child.pid, ...descendants(emperor.child.pid)].map((pid) => {
      try {
        return memoryKiB(pid);
      } catch {
        return { rssKiB: 0, pssKiB: 0 };
      }
    });
    result.allRssKiB = all.reduce((sum, m) => sum + m.rssKiB, 0);
    result.allPssKiB = all.reduce((sum, m) => sum + m.pssKiB, 0);

    const reloadStarted = performance.now();
    emperor.child.kill('SIGHUP');
    await until(() => alive() && state.reloaded.size >= vassals, deadline, 20);
    result.reloadMs = state.lastReloadedAt - reloadStarted;

    const stopStarted = performance.now();
    emperor.child.kill('SIGTERM');
    await emperor.exited;
    result.stopMs = performance.now() - stopStarted;
    result.leftovers = killAll(pids);
    result.problems = state.problems;
    result.problemCounts = state.problemCounts;
    return result;
  } catch (err) {
    err.message += ` (${progress()})`;
    throw err;
  } finally {
    clearInterval(ticker);
    if (!exited) emperor.child.kill('SIGKILL');
    await emperor.exited;
    killAll(pids);
    // A bind helper of the killed emperor may still be creating its socket: retry, and never hide the real error.
    try {
      rmSync(fleet.dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 });
    } catch (err) {
      console.log(`  could not remove ${fleet.dir}: ${err.message}`);
    }
  }
}

/** The figures in words, one line each. */
export function describeScale(r, label = 'supervisor') {
  if (r.skipped) return `${label}: skipped: ${r.skipped}`;
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
  return [
    `${label}, ${r.vassals} vassals x ${r.workers} ${r.program} workers${r.tyrant ? ' (tyrant)' : ''}:`,
    `  all spawned ${s(r.spawnedMs)}, all ready ${s(r.readyMs)}${r.restarts ? ` (${r.restarts} workers started again on the way)` : ''} (by the emperor's own records: ${s(r.spawnedOwnMs)} and ${s(r.readyOwnMs)}); floor ${s(r.floorMs)} (workers' CPU until ready ${s(r.workerCpuMs)} / ${cpus().length} cores)${r.cpuUnread ? `, ${r.cpuUnread} workers gone before their CPU was read` : ''}`,
    `  emperor CPU until all ready ${s(r.emperorStartCpuMs)}; RSS ${mib(r.rssKiB)}, PSS ${mib(r.pssKiB)} (with the workers ${mib(r.allRssKiB)}, ${mib(r.allPssKiB)}); idle CPU ${(r.idleCpuMsPer30s / 1000).toFixed(3)} s per 30 s (over ${r.idleSeconds} s), the next ${r.idleSeconds} s ${(r.laterIdleCpuMsPer30s / 1000).toFixed(3)} s per 30 s`,
    `  SIGHUP reload of everything ${s(r.reloadMs)}; stop ${s(r.stopMs)}${r.leftovers ? `; ${r.leftovers} workers outlived the emperor (killed)` : ''}`,
    ...(r.problems?.length ? [`  warnings/errors logged: ${Object.entries(r.problemCounts).map(([e, n]) => `${n} ${e}`).join(', ')}; the first: ${r.problems.join('; ')}`] : []),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [vassals = '10', workers = '2', program = 'node', mode] = process.argv.slice(2);
  const r = await scaleSupervisor({ vassals: Number(vassals), workers: Number(workers), program, tyrant: mode === 'tyrant', idleSeconds: Number(process.env.IDLE_SECONDS ?? 30), emperorArgs: process.argv.slice(6) });
  console.log(describeScale(r));
}
