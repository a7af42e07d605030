// The cost of reading vassal files through readRegularFile (O_PATH open, fstat, re-open via /proc/self/fd, fstat,
// read) against a plain readFile, per file and as the emperor's scanner does it: a first scan of N files (every
// file read) and a rescan of N unchanged files (a stat each, no read).
// Run: npm run build && node bench/vassal-read.mjs [N]   (SCANNER=path/to/vassal-files.js compares another build)
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fmt, ROOT, summary, tempDir } from './lib.mjs';

const { readRegularFile } = await import(`${ROOT}dist/config/regular-file.js`);
const { MAX_CONFIG_FILE_BYTES } = await import(`${ROOT}dist/config/config-host.js`);
const { VassalScanner } = await import(process.env.SCANNER ?? `${ROOT}dist/emperor/vassal-files.js`);
const { vassalSource } = await import(`${ROOT}dist/emperor/vassal-source.js`);

const ROUNDS = 7;

async function timed(fn) {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

export async function vassalRead(n = 1000) {
  const dir = tempDir('bench-read');
  try {
    const files = Array.from({ length: n }, (_, i) => path.join(dir.path, `app${i}.ini`));
    for (const [i, file] of files.entries()) {
      writeFileSync(file, `[uwsgi]\ncommand = node server.js --port ${8000 + i}\nprocesses = 2\nsocket = app${i}.sock\nchmod-socket = 660\nvacuum = true\nnotification-fd = auto\nenv = NODE_ENV=production\n`);
    }
    // Past the scanner's racy-stamp margin (2 s), so that a rescan trusts what the first scan read.
    await sleep(2_100);
    const perFile = { readFileSync: [], readFile: [], readRegularFile: [] };
    for (let r = 0; r < ROUNDS; r++) {
      perFile.readFileSync.push(await timed(() => files.forEach((f) => readFileSync(f, 'utf8'))));
      perFile.readFile.push(await timed(async () => {
        for (const f of files) await readFile(f, 'utf8');
      }));
      perFile.readRegularFile.push(await timed(() => files.forEach((f) => readRegularFile(f, { limit: MAX_CONFIG_FILE_BYTES }))));
    }
    const source = [vassalSource(dir.path, ['.ini'])];
    const first = [];
    const rescan = [];
    for (let r = 0; r < ROUNDS; r++) {
      const scanner = new VassalScanner();
      first.push(await timed(() => scanner.scan(source, 50)));
      rescan.push(await timed(() => scanner.scan(source, 50)));
    }
    return {
      n,
      perFile: Object.fromEntries(Object.entries(perFile).map(([k, v]) => [k, summary(v)])),
      first: summary(first),
      rescan: summary(rescan),
    };
  } finally {
    dir.remove();
  }
}

export function printVassalRead(result) {
  console.log(`reading ${result.n} vassal files (~200 bytes each), whole batch:`);
  for (const [name, s] of Object.entries(result.perFile)) console.log(`  ${name.padEnd(16)} ${fmt(s)}`);
  console.log(`  scanner, first scan (reads every file): ${fmt(result.first)}`);
  console.log(`  scanner, rescan of unchanged files:     ${fmt(result.rescan)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) printVassalRead(await vassalRead(Number(process.argv[2] ?? 1000)));
