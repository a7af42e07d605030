// Shared pieces of the benchmarks: start the CLI, read its JSON log, poll with deadlines, summarise timings.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = `${ROOT}bin/supervisor.js`;
/**
 * Node options the emperor runs with, as `bin/supervisor`, `npm start` and the systemd units start it
 * (test/e2e/launcher.test.ts keeps them in step): a young generation of 1 MiB semi-spaces instead of up to 16.
 */
export const EMPEROR_NODE_ARGS = ['--max-semi-space-size=1'];
export const FIXTURES = `${ROOT}test/fixtures/workers/`;

export function tempDir(prefix) {
  const path = mkdtempSync(`/tmp/${prefix}-`);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Variables of this process's environment that change how every Node process starts (NODE_EXTRA_CA_CERTS alone adds
 * about 40 ms of CPU to each start, as it parses a certificate bundle). The emperor passes its environment to its
 * workers in the default mode, so they are left out of the emperor's: a benchmark must not measure the caller's shell.
 */
export const NODE_START_VARIABLES = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'NODE_DEBUG', 'NODE_V8_COVERAGE', 'NODE_COMPILE_CACHE'];

/** This process's environment without NODE_START_VARIABLES, plus `extra`. */
export function benchEnv(extra = {}) {
  const env = { ...process.env };
  for (const name of NODE_START_VARIABLES) delete env[name];
  return { ...env, ...extra };
}

/**
 * The emperor as a child process (its environment: benchEnv(env)); `records` collects its JSON log, each record with `receivedAt` (performance.now()
 * when this process read it). `nodeArgs`: options for the emperor's own Node (e.g. --cpu-prof), given on its command
 * line so that its workers do not inherit them. `onRecord(record)` sees each record as it arrives.
 */
export function startEmperor(args, env = {}, { nodeArgs = [], onRecord } = {}) {
  const child = spawn(process.execPath, [...EMPEROR_NODE_ARGS, ...nodeArgs, CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: benchEnv(env) });
  const records = [];
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    const receivedAt = performance.now();
    for (const line of lines) {
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        continue; // not a log record
      }
      record.receivedAt = receivedAt;
      records.push(record);
      onRecord?.(record);
    }
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    records,
    exited,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** An error that ends an `until` at once (e.g. the process waited for has exited), where others mean "not yet". */
export class GiveUp extends Error {}

export async function until(fn, timeoutMs = 30_000, intervalMs = 2) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      // not yet
    }
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(intervalMs);
  }
}

export function get(target, path = '/', timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...target, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

export function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return { n: values.length, min: sorted[0], median, p90: at(0.9), max: sorted[sorted.length - 1] };
}

export const fmt = (s, unit = 'ms') => `median ${s.median.toFixed(1)} ${unit} (min ${s.min.toFixed(1)}, p90 ${s.p90.toFixed(1)}, max ${s.max.toFixed(1)}, n=${s.n})`;

/** Clock ticks per second of /proc/PID/stat's times (getconf CLK_TCK; 100 on Linux). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * Fields of /proc/PID/stat: parent, process group, state, CPU time (user + system, and each, ms, all threads, from the
 * fork on: it keeps counting across exec), start time (ticks after boot). Throws when the process is gone.
 */
export function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state) of proc(5); field N is f[N - 3].
  const userMs = (Number(f[11]) * 1000) / CLK_TCK;
  const systemMs = (Number(f[12]) * 1000) / CLK_TCK;
  return { state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), cpuMs: userMs + systemMs, userMs, systemMs, starttime: Number(f[19]) };
}

/** CPU time (user + system, ms) of a process, or undefined when it is gone. */
export function cpuMs(pid) {
  try {
    return procStat(pid).cpuMs;
  } catch {
    return undefined;
  }
}

/** Resident and proportional set size (KiB) of a process, from /proc/PID/smaps_rollup (PSS shares each page fairly). */
export function memoryKiB(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKiB: field('Rss'), pssKiB: field('Pss') };
}

/**
 * Resident memory (KiB) of a process by kind of mapping, from /proc/PID/smaps: `anonymous` (V8's heap, malloc's
 * mmapped chunks and thread arenas), `brk` (malloc's main arena, [heap]), `stack`, and `files` (the node binary and
 * libraries; mostly shared).
 */
export function memoryMap(pid) {
  const totals = { anonymous: 0, brk: 0, stack: 0, files: 0, other: 0 };
  let kind = 'other';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1];
      kind = name === '' ? 'anonymous' : name === '[heap]' ? 'brk' : name === '[stack]' ? 'stack' : name.startsWith('/') ? 'files' : 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) totals[kind] += Number(rss[1]);
  }
  return totals;
}

/** Every live process below `root` (not `root` itself), from the parent pid in each /proc/PID/stat. */
export function descendants(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const { ppid, state } = procStat(Number(name));
      if (state === 'Z') continue;
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  const found = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Pids of the live processes whose working directory is `dir` or below it (zombies have none to read). */
export function processesIn(dir) {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) found.push(Number(name));
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}

/** Sends `signal` to each pid that is still alive; returns how many were. For clean-up of what a benchmark started. */
export function killAll(pids, signal = 'SIGKILL') {
  let alive = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      alive++;
    } catch {
      // already gone
    }
  }
  return alive;
}
