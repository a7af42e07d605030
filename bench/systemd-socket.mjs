// systemd's socket unit, played by a small holder process (socket-holder.py), and emperor restarts under load: what
// test/e2e/deploy-socket-unit.test.ts asserts and bench/deploy.mjs measures.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadLoop } from './load-loop.mjs';

const HOLDER = fileURLToPath(new URL('socket-holder.py', import.meta.url));

/**
 * Starts the holder: it binds and listens on `sockets` ({ unix: PATH } or { tcp: [HOST, PORT] }) and keeps them;
 * each start() forks `argv` with them as fd 3, 4, ... and LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES (`names`), as systemd
 * does for a service with a socket unit. `env` is added to the holder's environment, `baseEnv` (this process's by
 * default), and so to what it starts.
 */
export function startHolder({ sockets, names, argv, env = {}, baseEnv = process.env }) {
  const child = spawn('/usr/bin/python3', [HOLDER, JSON.stringify(sockets), names.join(':'), '--', ...argv], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...baseEnv, ...env },
  });
  const events = [];
  /** What the commands it started printed (stdout and stderr). */
  const output = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => output.push(chunk));
  const waiters = new Set();
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) events.push(JSON.parse(line));
    for (const check of waiters) check();
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  /** The first event from index `from` on that `match` accepts. */
  const next = (match, from = 0, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`socket holder: no such event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
      }, timeoutMs);
      const check = () => {
        const found = events.slice(from).find(match);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  return {
    pid: child.pid,
    events,
    output,
    listening: Promise.race([next((e) => e.listening), exited.then((code) => Promise.reject(new Error(`socket holder exited with ${code}`)))]),
    /** Starts the command once more; resolves with its pid. */
    async start() {
      return (await this.startMany(1))[0];
    },
    /** Starts the command `n` times at once (one write); resolves with their pids. */
    async startMany(n) {
      const from = events.length;
      child.stdin.write('start\n'.repeat(n));
      const pids = [];
      while (pids.length < n) pids.push((await next((e) => e.started && !pids.includes(e.started), from)).started);
      return pids;
    },
    /** Resolves with { code, signal } once the process `pid` it started has exited. */
    async exitOf(pid, timeoutMs = 90_000) {
      const e = await next((ev) => ev.exited === pid, 0, timeoutMs);
      return { code: e.code, signal: e.signal };
    },
    /** Lets go of the sockets and ends. */
    async close() {
      child.stdin.end('exit\n');
      await exited;
    },
  };
}

async function until(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Restarts an emperor `restarts` times under load on each of `targets` ({ socketPath } or { port }, 8 clients each,
 * a new connection per request, 10 ms pause after a failure): before each restart every target must have answered
 * 20 more requests (the emperor before it served), then `stop()` and `start()` run one after the other. Resolves with
 * each target's counts, and each restart's duration (stop begun -> start returned) in ms.
 */
export async function restartsUnderLoad({ targets, restarts, stop, start }) {
  const loads = targets.map((t) => loadLoop({ ...t, connections: 8, pauseAfterFailureMs: 10 }));
  const durations = [];
  const servedMore = async (what) => {
    const before = loads.map((l) => l.result.ok);
    await until(() => loads.every((l, i) => l.result.ok >= before[i] + 20), 120_000, what);
  };
  try {
    for (let i = 0; i < restarts; i++) {
      await servedMore(`requests served before restart ${i + 1}`);
      const t0 = Date.now();
      await stop(i);
      await start(i);
      durations.push(Date.now() - t0);
    }
    await servedMore('requests served after the last restart');
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }
  return { results: loads.map((l) => l.result), durations };
}
