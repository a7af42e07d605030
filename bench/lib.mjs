// Shared pieces of the benchmarks: start the CLI, read its JSON log, poll with deadlines, summarise timings.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = `${ROOT}bin/supervisor.js`;
export const FIXTURES = `${ROOT}test/fixtures/workers/`;

export function tempDir(prefix) {
  const path = mkdtempSync(`/tmp/${prefix}-`);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The emperor as a child process; `records` collects its JSON log. */
export function startEmperor(args, env = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const records = [];
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      try {
        records.push(JSON.parse(line));
      } catch {
        // not a log record
      }
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

export async function until(fn, timeoutMs = 30_000, intervalMs = 2) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch {
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
