// What each module the emperor imports costs a fresh Node process: import time, and resident memory added (RSS and
// its anonymous part, from /proc/self/smaps_rollup before and after the import, after a GC). Each module in its own
// process, 5 runs each, medians. dist/cli/run-emperor.js is the emperor's whole module graph but the CLI's parsing
// (dist/cli.js runs main() when imported, so it is not measured here).
// Run: npm run build && node bench/module-cost.mjs
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT, summary } from './lib.mjs';

const MODULES = [
  'pino',
  'pino-pretty',
  'chokidar',
  'execa',
  'p-limit',
  'shell-quote',
  'fastest-levenshtein',
  'picomatch',
  'node-unix-socket',
  `${ROOT}dist/runtime/logger.js`,
  `${ROOT}dist/cli/run-emperor.js`,
  `${ROOT}dist/cli/run-vassal.js`,
];

// The probe: memory, import, GC, memory; prints JSON. node-unix-socket is CommonJS with a native binding: required.
const PROBE = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const mem = () => { const t = readFileSync('/proc/self/smaps_rollup', 'utf8'); const f = (n) => Number(new RegExp('^' + n + ':\\\\s+(\\\\d+)', 'm').exec(t)[1]); return { rss: f('Rss'), anon: f('Anonymous') }; };
globalThis.gc(); const before = mem(); const t0 = performance.now();
const spec = process.argv[1];
if (spec === 'node-unix-socket') createRequire(process.env.ROOT + 'package.json')(spec); else await import(spec);
const ms = performance.now() - t0; globalThis.gc(); const after = mem();
console.log(JSON.stringify({ ms, rssKiB: after.rss - before.rss, anonKiB: after.anon - before.anon }));
`;

export function moduleCost(runs = 5) {
  const rows = [];
  for (const spec of MODULES) {
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROBE, spec], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, ROOT } });
      samples.push(JSON.parse(out.trim().split('\n').at(-1)));
    }
    rows.push({ module: spec.replace(ROOT, ''), ms: summary(samples.map((s) => s.ms)), rssKiB: summary(samples.map((s) => s.rssKiB)), anonKiB: summary(samples.map((s) => s.anonKiB)) });
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log('module                 import ms   +RSS MiB  +anon MiB   (medians of 5 fresh processes, after a GC)');
  for (const r of moduleCost()) {
    console.log(`${r.module.padEnd(22)} ${r.ms.median.toFixed(1).padStart(9)} ${(r.rssKiB.median / 1024).toFixed(1).padStart(10)} ${(r.anonKiB.median / 1024).toFixed(1).padStart(10)}`);
  }
}
