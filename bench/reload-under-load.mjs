// Load test: nginx in front of the 4-worker example app (vassals.example/apps/hello.mjs), 32 connections for 30 s
// (wrk): first with nothing happening (the baseline), then while the vassal is reloaded 20 times, alternating file
// edits and SIGHUP, then while a random worker is SIGKILLed 20 times. Prints requests, failures, non-2xx answers
// and the 99th percentile latency of each phase.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, NGINX, writeNginxConf } from './nginx.mjs';
import { get, ROOT, startEmperor, tempDir, until } from './lib.mjs';

export const WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((p) => existsSync(p));

function vassal(dir, generation) {
  writeFileSync(
    path.join(dir, 'hello.ini'),
    [
      '[uwsgi]',
      `command = ${process.execPath} ${ROOT}vassals.example/apps/hello.mjs`,
      'processes = 4',
      'socket = hello.sock',
      'chown-socket = root:nogroup',
      'chmod-socket = 660',
      'vacuum = true',
      'notification-fd = auto',
      `env = EDIT=${generation}`,
      '',
    ].join('\n'),
  );
}

const LATENCY_UNITS = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** wrk's text output (run with --latency) as numbers: requests, failures, rate, p50 and p99 latency in ms. */
export function parseWrk(out) {
  const num = (re) => Number(re.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  // wrk pads the unit to a fixed width: "99%    1.43s " has a trailing space.
  const percentile = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? Number(m[1]) * LATENCY_UNITS[m[2]] : undefined;
  };
  return {
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    perSecond: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: percentile(50),
    p99Ms: percentile(99),
  };
}

/** Runs wrk; resolves with parseWrk's figures and the raw text. */
export function wrk(url, seconds, connections) {
  return new Promise((resolve, reject) => {
    const child = spawn(WRK, ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '--latency', url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', () => resolve({ ...parseWrk(out), raw: out }));
  });
}

export async function reloadUnderLoad({ seconds = 30, connections = 32, actions = 20 } = {}) {
  if (!NGINX || !WRK) return { skipped: `needs nginx and wrk (apt-get install nginx wrk)` };
  const dir = tempDir('bench-load');
  chmodSync(dir.path, 0o755);
  vassal(dir.path, 0);
  const pidfile = path.join(dir.path, 'emperor.pid');
  const emperor = startEmperor(['--emperor', dir.path, '--pidfile', pidfile]);
  const port = await freePort();
  const { conf } = writeNginxConf(dir.path, port, path.join(dir.path, 'hello.sock'), { workers: 2 });
  const nginx = spawn(NGINX, ['-c', conf, '-p', dir.path], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/`;
  const results = {};
  try {
    await until(async () => (await get({ socketPath: path.join(dir.path, 'hello.sock') })).status === 200);
    await until(async () => (await get({ host: '127.0.0.1', port })).status === 200);

    // Phase 0: the same load with nothing happening.
    results.baseline = await wrk(url, seconds, connections);

    // Phase 1: reloads, alternating an edit of the file and SIGHUP to the emperor.
    const gap = (seconds * 1000) / (actions + 1);
    const load = wrk(url, seconds, connections);
    for (let i = 1; i <= actions; i++) {
      await sleep(gap);
      if (i % 2) vassal(dir.path, i);
      else emperor.child.kill('SIGHUP');
    }
    results.reloads = { ...(await load), actions, rollsCompleted: emperor.records.filter((r) => r.event === 'vassal.reloaded').length };
    await until(() => emperor.records.filter((r) => r.event === 'vassal.reloaded').length >= 1 && settled(emperor), 30_000, 50);

    // Phase 2: random workers SIGKILLed under the same load.
    const kills = wrk(url, seconds, connections);
    let killed = 0;
    for (let i = 1; i <= actions; i++) {
      await sleep(gap);
      const live = liveWorkers(emperor);
      const victim = live[Math.floor(Math.random() * live.length)];
      if (victim) {
        process.kill(victim, 'SIGKILL');
        killed++;
      }
    }
    results.kills = { ...(await kills), killed };
  } finally {
    nginx.kill('SIGQUIT');
    await emperor.stop();
    dir.remove();
  }
  return results;
}

function settled(emperor) {
  const last = emperor.records.findLast((r) => r.event === 'vassal.reload' || r.event === 'vassal.reloaded');
  return last?.event === 'vassal.reloaded';
}

function liveWorkers(emperor) {
  const exited = new Set(emperor.records.filter((r) => r.event === 'worker.exit').map((r) => r.pid));
  return emperor.records.filter((r) => r.event === 'worker.ready' && !exited.has(r.pid)).map((r) => r.pid);
}

/** `reloads`: what the reload phase did, in words (the supervisor's by default). */
export function describeLoad(r, reloads = `${r.reloads?.actions} reloads (edit/SIGHUP alternating; ${r.reloads?.rollsCompleted} rolls completed)`) {
  if (r.skipped) return `load test skipped: ${r.skipped}`;
  const line = (name, x, what) =>
    `${name}: ${x.requests} requests (${x.perSecond.toFixed(0)}/s), ${x.socketErrors} socket errors, ${x.non2xx} non-2xx, p99 ${x.p99Ms?.toFixed(1)} ms, during ${what}`;
  return [
    line('baseline', r.baseline, 'nothing (no reloads, no kills)'),
    line('reloads under load', r.reloads, reloads),
    line('SIGKILLs under load', r.kills, `${r.kills.killed} workers SIGKILLed`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(describeLoad(await reloadUnderLoad()));
}
