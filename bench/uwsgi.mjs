// uWSGI's Emperor as the peer of the same workloads, when uWSGI is installed (Debian: apt-get install uwsgi-core
// uwsgi-plugin-python3). Each run is a private `uwsgi --emperor DIR` started by this process, with its vassal files,
// sockets and app in a fresh temp dir, stopped (SIGINT) at the end: never a system service. Vassals run a tiny WSGI
// app (the hello app's Python twin) with `master`, `processes` and an `http-socket` on a unix path.
// Times are when this process read uWSGI's log line (uWSGI stamps its lines to the second only).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { benchEnv, cpuMs, descendants, fmt, get, GiveUp, killAll, memoryKiB, processesIn, procStat, summary, tempDir, until } from './lib.mjs';
import { freePort, NGINX, writeNginxConf } from './nginx.mjs';
import { WRK, wrk } from './reload-under-load.mjs';

export const UWSGI = ['/usr/bin/uwsgi', '/usr/local/bin/uwsgi'].find((p) => existsSync(p));
export const UWSGI_INSTALL = 'apt-get install uwsgi-core uwsgi-plugin-python3 (Debian/Ubuntu)';

/** Why the uWSGI column cannot run here (with how to install it), or undefined when it can. */
export function uwsgiMissing() {
  if (!UWSGI) return `uWSGI is not installed: ${UWSGI_INSTALL}`;
  try {
    execFileSync(UWSGI, ['--need-plugin', 'python3', '--version'], { stdio: 'ignore' });
  } catch {
    return `uWSGI's python3 plugin is missing: ${UWSGI_INSTALL}`;
  }
  return undefined;
}

/** uWSGI's version string (e.g. 2.0.21-debian), or undefined. */
export function uwsgiVersion() {
  try {
    return execFileSync(UWSGI, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

const APP = `# The hello app's twin: answers who served the request.
import os
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain; charset=utf-8')])
    return [b'Hello from pid %d\\n' % os.getpid()]
`;

/** A vassal file: `processes` workers of the app on `socket` (HTTP on a unix path); `lazy`: lazy-apps, `chain`: touch-chain-reload file. */
export function vassalText({ app, socket, processes = 2, lazy = false, chain, socketOwner }) {
  return [
    '[uwsgi]',
    'plugins = python3',
    'master = true',
    `processes = ${processes}`,
    `http-socket = ${socket}`,
    ...(socketOwner ? [`chown-socket = ${socketOwner}`, 'chmod-socket = 660'] : []),
    `wsgi-file = ${app}`,
    ...(lazy ? ['lazy-apps = true'] : []),
    ...(chain ? [`touch-chain-reload = ${chain}`] : []),
    'vacuum = true',
    '',
  ].join('\n');
}

/** A private temp dir with the app and an empty vassal directory. */
function workspace(prefix) {
  const dir = tempDir(prefix);
  chmodSync(dir.path, 0o755);
  const app = path.join(dir.path, 'app.py');
  writeFileSync(app, APP);
  const vassals = path.join(dir.path, 'vassals');
  mkdirSync(vassals);
  const sockets = path.join(dir.path, 'sockets');
  mkdirSync(sockets, { mode: 0o755 });
  return { ...dir, app, vassals, sockets };
}

/**
 * `uwsgi --emperor DIR` as a child of this process, its output (emperor and vassals share it) kept as lines, each
 * with `at` (performance.now() when read). `waitLine(re, from)` resolves with the first match at or after index `from`.
 */
export function startUwsgiEmperor(vassalDir, cwd) {
  const env = benchEnv();
  for (const name of Object.keys(env)) if (name.startsWith('UWSGI_')) delete env[name];
  const child = spawn(UWSGI, ['--emperor', vassalDir], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const listeners = new Set();
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop();
      const at = performance.now();
      for (const text of parts) {
        const line = { text, at };
        lines.push(line);
        for (const listener of listeners) listener(line);
      }
    });
  }
  let exited = false;
  const done = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  done.then(() => (exited = true));
  return {
    child,
    lines,
    onLine: (listener) => listeners.add(listener),
    isRunning: () => !exited,
    exited: done,
    waitLine: (re, from = 0, timeoutMs = 60_000) =>
      until(() => {
        for (let i = from; i < lines.length; i++) {
          const m = re.exec(lines[i].text);
          if (m) return { ...lines[i], match: m, index: i };
        }
        if (exited) throw new GiveUp('uwsgi exited');
        return undefined;
      }, timeoutMs, 2),
    /** The last `n` lines, to show with an error. */
    tail: (n = 30) => lines.slice(-n).map((l) => `  | ${l.text}`).join('\n'),
    /**
     * SIGINT (uWSGI's emperor stops its vassals, then exits); whatever is left afterwards is killed, and waited for
     * (up to 5 s) until nothing runs in `cwd`, where every uWSGI process of the run works: a SIGKILLed process takes a
     * moment to exit (one was still there when the test looked, under load), and a worker whose master has exited is
     * init's child, no longer below the emperor. `graceMs`: how long the emperor has before SIGKILL (default 60 s).
     * Returns how many processes were killed.
     */
    async stop({ graceMs = 60_000 } = {}) {
      const below = descendants(child.pid);
      child.kill('SIGINT');
      const stopped = await Promise.race([done, sleep(graceMs).then(() => undefined)]);
      if (!stopped) child.kill('SIGKILL');
      await done;
      const killed = killAll(below);
      const orphans = new Set();
      for (let round = 0; cwd && round < 250; round++) {
        const left = processesIn(cwd).filter((pid) => pid !== process.pid);
        if (left.length === 0) break;
        for (const pid of left) if (!below.includes(pid)) orphans.add(pid);
        killAll(left);
        await sleep(20);
      }
      return killed + orphans.size;
    },
  };
}

/** `err` with the end of uWSGI's log appended, so that a failed run says what uWSGI said. */
function withTail(err, emperor) {
  err.message += `\nlast lines of uWSGI's log:\n${emperor.tail()}`;
  return err;
}

/** The vassal masters (the emperor's children) and their workers. */
function vassalProcesses(emperorPid) {
  const all = descendants(emperorPid);
  const masters = all.filter((pid) => {
    try {
      return procStat(pid).ppid === emperorPid;
    } catch {
      return false;
    }
  });
  return { masters, workers: all.filter((pid) => !masters.includes(pid)) };
}

/** File dropped (renamed) into the vassal directory -> its socket answers HTTP 200; then removed, until vacuumed. */
export async function uwsgiHotAdd(rounds = 10) {
  const ws = workspace('bench-uwsgi-drop');
  const emperor = startUwsgiEmperor(ws.vassals, ws.path);
  const timings = [];
  let lingering = 0;
  try {
    await emperor.waitLine(/starting uWSGI Emperor/);
    // As for ours (drop-to-serve.mjs): every file written beforehand in a staging directory, then renamed in.
    const staging = path.join(ws.path, 'staging');
    mkdirSync(staging);
    for (let i = 0; i < rounds; i++) writeFileSync(path.join(staging, `app${i}.ini`), vassalText({ app: ws.app, socket: path.join(ws.sockets, `app${i}.sock`) }));
    for (let i = 0; i < rounds; i++) {
      const socketPath = path.join(ws.sockets, `app${i}.sock`);
      const tmp = path.join(staging, `app${i}.ini`);
      const t0 = performance.now();
      renameSync(tmp, path.join(ws.vassals, `app${i}.ini`));
      await until(async () => (await get({ socketPath })).status === 200, 60_000, 1);
      timings.push(performance.now() - t0);
      rmSync(path.join(ws.vassals, `app${i}.ini`));
      // A vassal stopped right after its start can have a worker that ignores the stop until its master is gone
      // (30 s later, no vacuum): seen with 2.0.21. Each round has its own socket, so the next one need not wait.
      await until(() => !existsSync(socketPath), 5000, 10).catch(() => lingering++);
    }
  } catch (err) {
    throw withTail(err, emperor);
  } finally {
    // Nothing is timed from here on. uWSGI's emperor waits for a lingering vassal (above) until its worker gives up,
    // which made this stop take 30 s; what is left after 5 s is killed (and waited for) by stop() instead.
    await emperor.stop({ graceMs: 5000 });
    ws.remove();
  }
  return { ...summary(timings), lingering };
}

/**
 * kill -9 of a worker -> the master's "Respawned uWSGI worker N (new pid: P)" line. Preforking (uWSGI's default): the
 * app is loaded in the master, so the replacement is ready when forked. Rounds are 2.5 s apart: uWSGI's fork-bomb
 * guard sleeps 2 s when more than `processes` workers die within its check interval (1 s).
 */
export async function uwsgiRestartLatency(rounds = 10) {
  const ws = workspace('bench-uwsgi-restart');
  const socketPath = path.join(ws.sockets, 'app.sock');
  writeFileSync(path.join(ws.vassals, 'app.ini'), vassalText({ app: ws.app, socket: socketPath }));
  const emperor = startUwsgiEmperor(ws.vassals, ws.path);
  const timings = [];
  try {
    await emperor.waitLine(/\[emperor\] vassal app\.ini is ready to accept requests/);
    await until(async () => (await get({ socketPath })).status === 200);
    for (let i = 0; i < rounds; i++) {
      const { workers } = vassalProcesses(emperor.child.pid);
      const from = emperor.lines.length;
      const t0 = performance.now();
      process.kill(workers[i % workers.length], 'SIGKILL');
      const respawned = await emperor.waitLine(/Respawned uWSGI worker \d+ \(new pid: (\d+)\)/, from);
      timings.push(respawned.at - t0);
      await sleep(2500);
    }
  } catch (err) {
    throw withTail(err, emperor);
  } finally {
    await emperor.stop();
    ws.remove();
  }
  return summary(timings);
}

/**
 * Load (wrk through nginx, as for the supervisor) on a 4-worker vassal with lazy-apps: a baseline, then `actions`
 * chain reloads (touch of its touch-chain-reload file: one worker at a time, each replaced once its successor has
 * loaded the app), then `actions` SIGKILLs of random workers. A touch while a chain runs is ignored by uWSGI; the
 * number of chains completed is reported.
 */
export async function uwsgiReloadUnderLoad({ seconds = 30, connections = 32, actions = 20 } = {}) {
  if (!NGINX || !WRK) return { skipped: 'needs nginx and wrk (apt-get install nginx wrk)' };
  const ws = workspace('bench-uwsgi-load');
  const socketPath = path.join(ws.sockets, 'hello.sock');
  const chain = path.join(ws.path, 'hello.reload');
  writeFileSync(chain, '');
  writeFileSync(path.join(ws.vassals, 'hello.ini'), vassalText({ app: ws.app, socket: socketPath, processes: 4, lazy: true, chain, socketOwner: 'root:nogroup' }));
  const emperor = startUwsgiEmperor(ws.vassals, ws.path);
  const port = await freePort();
  const { conf } = writeNginxConf(ws.path, port, socketPath, { workers: 2 });
  const nginx = spawn(NGINX, ['-c', conf, '-p', ws.path], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/`;
  const results = {};
  try {
    await until(async () => (await get({ socketPath })).status === 200);
    await until(async () => (await get({ host: '127.0.0.1', port })).status === 200);
    results.baseline = await wrk(url, seconds, connections);

    const gap = (seconds * 1000) / (actions + 1);
    let from = emperor.lines.length;
    const loadDone = wrk(url, seconds, connections);
    for (let i = 1; i <= actions; i++) {
      await sleep(gap);
      const now = new Date();
      utimesSync(chain, now, now);
    }
    const count = (re) => emperor.lines.slice(from).filter((l) => re.test(l.text)).length;
    const chainsStarted = () => count(/has been touched\.\.\. chain reload !!!/);
    const chainsCompleted = () => count(/chain reloading complete/);
    const load = await loadDone;
    // A chain still running when the load ends is waited for, then counted.
    await until(() => chainsCompleted() >= chainsStarted(), 120_000, 100);
    results.reloads = { ...load, actions, chainsStarted: chainsStarted(), rollsCompleted: chainsCompleted() };
    await sleep(3000);

    from = emperor.lines.length;
    const kills = wrk(url, seconds, connections);
    let killed = 0;
    for (let i = 1; i <= actions; i++) {
      await sleep(gap);
      const { workers } = vassalProcesses(emperor.child.pid);
      const victim = workers[Math.floor(Math.random() * workers.length)];
      if (victim) {
        process.kill(victim, 'SIGKILL');
        killed++;
      }
    }
    results.kills = { ...(await kills), killed };
  } catch (err) {
    throw withTail(err, emperor);
  } finally {
    nginx.kill('SIGQUIT');
    await emperor.stop();
    ws.remove();
  }
  return results;
}

/**
 * The scale workload for uWSGI: `vassals` vassal files of `workers` processes each (preforking, uWSGI's default),
 * one emperor. Spawned: every worker's "spawned uWSGI worker" line; ready: the emperor's "vassal X is ready to accept
 * requests" for every vassal. Floor: the CPU of all vassal processes (masters and workers) at that moment, divided by
 * the cores. Memory and idle CPU: the emperor plus the masters (uWSGI's supervision), and everything.
 */
export async function uwsgiScale({ vassals = 100, workers = 2, idleSeconds = 30 } = {}) {
  const ws = workspace('bench-uwsgi-scale');
  const width = String(vassals - 1).length;
  for (let i = 0; i < vassals; i++) {
    const name = `v${String(i).padStart(width, '0')}`;
    writeFileSync(path.join(ws.vassals, `${name}.ini`), vassalText({ app: ws.app, socket: path.join(ws.sockets, `${name}.sock`), processes: workers }));
  }
  const total = vassals * workers;
  const state = { spawned: 0, lastSpawnAt: 0, ready: new Set(), lastReadyAt: 0 };
  const started = performance.now();
  const emperor = startUwsgiEmperor(ws.vassals, ws.path);
  emperor.onLine(({ text, at }) => {
    if (/^spawned uWSGI worker \d+/.test(text)) {
      state.spawned++;
      state.lastSpawnAt = at;
    }
    const ready = /\[emperor\] vassal (\S+) is ready to accept requests/.exec(text);
    if (ready) {
      state.ready.add(ready[1]);
      state.lastReadyAt = at;
    }
  });
  const deadline = Math.max(180_000, total * 1000);
  const running = () => {
    if (!emperor.isRunning()) throw new GiveUp('uwsgi exited early');
    return true;
  };
  const result = { vassals, workers, program: 'wsgi' };
  const sumOf = (pids, read) => pids.reduce((sum, pid) => sum + (read(pid) ?? 0), 0);
  const memoryOf = (pids) => {
    const each = pids.map((pid) => {
      try {
        return memoryKiB(pid);
      } catch {
        return { rssKiB: 0, pssKiB: 0 };
      }
    });
    return { rssKiB: sumOf(each, (m) => m.rssKiB), pssKiB: sumOf(each, (m) => m.pssKiB) };
  };
  try {
    await until(() => running() && state.spawned >= total, deadline, 20);
    result.spawnedMs = state.lastSpawnAt - started;
    await until(() => running() && state.ready.size >= vassals, deadline, 20);
    result.readyMs = state.lastReadyAt - started;
    result.emperorStartCpuMs = cpuMs(emperor.child.pid);
    const { masters, workers: workerPids } = vassalProcesses(emperor.child.pid);
    result.masters = masters.length;
    result.workerProcesses = workerPids.length;
    result.workerCpuMs = sumOf([...masters, ...workerPids], cpuMs);
    result.floorMs = result.workerCpuMs / cpus().length;

    await sleep(3000);
    const supervision = [emperor.child.pid, ...masters];
    const before = sumOf(supervision, cpuMs);
    await sleep(idleSeconds * 1000);
    result.idleCpuMsPer30s = ((sumOf(supervision, cpuMs) - before) * 30) / idleSeconds;
    result.idleSeconds = idleSeconds;
    Object.assign(result, memoryOf(supervision));
    const all = memoryOf([...supervision, ...workerPids]);
    result.allRssKiB = all.rssKiB;
    result.allPssKiB = all.pssKiB;

    // SIGHUP: the emperor asks every vassal to reload (a graceful reload of each instance); each says ready again.
    const reloaded = new Set();
    let lastReloadedAt = 0;
    emperor.onLine(({ text, at }) => {
      const ready = /\[emperor\] vassal (\S+) is ready to accept requests/.exec(text);
      if (ready) {
        reloaded.add(ready[1]);
        lastReloadedAt = at;
      }
    });
    const reloadStarted = performance.now();
    emperor.child.kill('SIGHUP');
    await until(() => running() && reloaded.size >= vassals, deadline, 20);
    result.reloadMs = lastReloadedAt - reloadStarted;

    const stopStarted = performance.now();
    const below = descendants(emperor.child.pid);
    emperor.child.kill('SIGINT');
    await emperor.exited;
    result.stopMs = performance.now() - stopStarted;
    result.leftovers = killAll(below);
    return result;
  } catch (err) {
    throw withTail(err, emperor);
  } finally {
    await emperor.stop();
    ws.remove();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = uwsgiMissing();
  if (missing) {
    console.log(`uWSGI skipped: ${missing}`);
  } else {
    const what = process.argv[2] ?? 'all';
    console.log(`uWSGI ${uwsgiVersion()}`);
    if (what === 'all' || what === 'hot-add') console.log(`uWSGI: file dropped -> socket answers 200: ${fmt(await uwsgiHotAdd(Number(process.argv[3] ?? 10)))}`);
    if (what === 'all' || what === 'restart') console.log(`uWSGI: worker SIGKILL -> replacement spawned: ${fmt(await uwsgiRestartLatency(Number(process.argv[3] ?? 10)))}`);
    if (what === 'all' || what === 'load') console.log(JSON.stringify(await uwsgiReloadUnderLoad({ seconds: Number(process.argv[3] ?? 30) }), (k, v) => (k === "raw" && !process.env.RAW ? undefined : v), 1));
    if (what === 'all' || what === 'scale') console.log(await uwsgiScale({ vassals: Number(process.argv[3] ?? 100), idleSeconds: Number(process.env.IDLE_SECONDS ?? 30) }));
  }
}
