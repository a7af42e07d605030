// The cost of tyrant mode's privilege-dropping config reader (src/tenant-reader/): one reader run, what it is made
// of, and 100 vassals started at once with and without emperor-tyrant. Needs root and the test user (svtest-worker,
// created by the test suite's global setup). Run: npm run build && node bench/tenant-reader.mjs
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, ROOT, startEmperor, summary, tempDir, until } from './lib.mjs';
import { TENANT, tenantAccount } from './scale.mjs';

const READER = `${ROOT}dist/tenant-reader/reader-child.js`;
const ROOT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
// The test tenant's ids, looked up when a benchmark runs (undefined without the account).
let uid;
let gid;

/** CPU time (ms) of the children this process has waited for: cutime + cstime of /proc/self/stat (10 ms ticks). */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** Runs a command to its end; resolves with its wall time and CPU time (ms). */
function timed(argv, input) {
  return new Promise((resolve, reject) => {
    const cpuBefore = childrenCpuMs();
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { env: ROOT_ENV, cwd: '/', stdio: ['pipe', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (c) => (bytes += c.length));
    child.stdin.end(input ?? '');
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited with ${code}`));
      else resolve({ wallMs, cpuMs: childrenCpuMs() - cpuBefore, bytes });
    });
  });
}

const vassalText = (i, extra = '') => `[uwsgi]\ncommand = /bin/sleep 3600\nready-after = 0\nprocesses = 1\nenv = APP=app${i}\nenv = HOME_DIR=$(HOME)\n${extra}`;

async function runs(n, argv, input) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await timed(argv, input));
  return { wall: summary(results.map((r) => r.wallMs)), cpu: summary(results.map((r) => r.cpuMs)) };
}

async function oneReader(n) {
  const dir = tempDir('sv-bench-reader');
  const file = path.join(dir.path, 'app.ini');
  const request = JSON.stringify({ files: [{ file, text: vassalText(0) }], defaults: { include: [], set: [] }, passed: {}, cwd: '/', startedAtMicros: 0 });
  try {
    const bare = await runs(n, [process.execPath, '-e', '0']);
    // The reader's modules loaded, privileges dropped, nothing parsed (an empty vassal file).
    const empty = await runs(n, [process.execPath, READER, String(uid), String(gid)], JSON.stringify({ ...JSON.parse(request), files: [] }));
    const reader = await runs(n, [process.execPath, READER, String(uid), String(gid)], request);
    // The parse itself, in-process and warm, for comparison.
    const { parseVassalText } = await import(`${ROOT}dist/config/load-vassal.js`);
    const parse = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      parseVassalText(vassalText(i), file);
      parse.push(performance.now() - t);
    }
    return { bare, empty, reader, parse: summary(parse) };
  } finally {
    dir.remove();
  }
}

/**
 * Starts an emperor on `count` tenant-owned vassal files; resolves with the time until every one has a worker.
 * `owners`: 'one' (all the test user's), or 'many' (each its own numeric uid, without a passwd entry: no batching).
 */
async function startMany(count, tyrant, owners = 'one', extra = '') {
  const dir = tempDir('sv-bench-many');
  chmodSync(dir.path, 0o755);
  for (let i = 0; i < count; i++) {
    const file = path.join(dir.path, `v${String(i).padStart(3, '0')}.ini`);
    writeFileSync(file, vassalText(i, extra));
    if (owners === 'one') chownSync(file, uid, gid);
    else chownSync(file, 30_000 + i, 30_000 + i);
  }
  const started = performance.now();
  const emperor = startEmperor(['--emperor', dir.path, ...(tyrant ? ['--emperor-tyrant'] : [])]);
  try {
    const spawned = () => new Set(emperor.records.filter((r) => r.event === 'worker.spawn').map((r) => r.vassal)).size;
    await until(() => spawned() >= count, 120_000, 5);
    const totalMs = performance.now() - started;
    const reads = emperor.records.filter((r) => r.event === 'vassal.read-as-owner');
    const errors = emperor.records.filter((r) => r.level === 'error');
    if (errors.length > 0) throw new Error(`errors: ${errors.map((r) => r.msg).join('; ')}`);
    return { totalMs, reads: reads.length, readers: new Set(reads.map((r) => r.pid)).size, readerWall: reads.length ? summary(reads.map((r) => r.wallMs)) : undefined, queued: reads.length ? summary(reads.map((r) => r.queuedMs)) : undefined };
  } finally {
    await emperor.stop();
    dir.remove();
  }
}

const line = (label, s) => `  ${label}: wall ${fmt(s.wall)}; CPU ${fmt(s.cpu)}`;

/**
 * Every figure of this benchmark: one reader run and its parts (`reader`), and 100 vassals started at once in each
 * mode (`many`: [{mode, totalMs, ...}]). Needs root and the test tenant; `skipped` says why not.
 */
export async function tenantReaderBench({ runs = 20, vassals = 100 } = {}) {
  if (process.getuid?.() !== 0) return { skipped: 'needs root' };
  const tenant = tenantAccount();
  if (!tenant) return { skipped: `needs the test user ${TENANT} (the test suite creates it when run as root)` };
  ({ uid, gid } = tenant);
  const reader = await oneReader(runs);
  // Default mode with uid/gid set starts workers exactly as tyrant mode does (account lookups, setpriv to the user):
  // the difference to tyrant mode is the reader.
  const asTenant = `uid = ${uid}\ngid = ${gid}\n`;
  const many = [];
  for (const [tyrant, owners, extra] of [[false, 'one', ''], [false, 'one', asTenant], [true, 'one', ''], [true, 'many', '']]) {
    const mode = tyrant ? `emperor-tyrant, ${owners === 'one' ? 'one owner' : `${vassals} owners`}` : `default mode${extra ? ', uid/gid = the tenant' : ''}`;
    many.push({ mode, vassals, ...(await startMany(vassals, tyrant, owners, extra)) });
  }
  return { reader, many };
}

export function printTenantReader(r) {
  if (r.skipped) return console.log(`tenant reader: skipped: ${r.skipped}`);
  console.log(`one reader run, started as root, dropping to the tenant (${r.reader.bare.wall.n} runs each; CPU from /proc/self/stat cutime+cstime, 10 ms ticks):`);
  console.log(line('node -e 0 (Node start alone)', r.reader.bare));
  console.log(line('reader, empty vassal file (start + modules + privilege drop)', r.reader.empty));
  console.log(line('reader, typical vassal file', r.reader.reader));
  console.log(`  parsing that file in-process (warm): ${fmt(r.reader.parse)}`);
  for (const many of r.many) {
    console.log(`${many.vassals} vassals at once, ${many.mode}: every vassal has a worker after ${many.totalMs.toFixed(0)} ms (from the emperor's start)`);
    if (many.readerWall) console.log(`  ${many.readers} readers for ${many.reads} files: reader wall ${fmt(many.readerWall)}; waiting for a reader ${fmt(many.queued)}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`node ${process.version}, ${cpus().length} cores`);
  printTenantReader(await tenantReaderBench());
}
