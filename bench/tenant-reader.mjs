// The cost of tyrant mode's privilege-dropping config reader (src/tenant-reader/): one reader run, what it is made
// of, and 100 vassals started at once with and without emperor-tyrant. Needs root and the test user (svtest-worker,
// created by the test suite's global setup). Run: npm run build && node bench/tenant-reader.mjs
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fmt, ROOT, startEmperor, summary, tempDir, until } from './lib.mjs';

const READER = `${ROOT}dist/tenant-reader/reader-child.js`;
const ROOT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const [, , uidText, gidText] = execFileSync('getent', ['passwd', 'svtest-worker'], { encoding: 'utf8' }).trim().split(':');
const uid = Number(uidText);
const gid = Number(gidText);

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

console.log(`node ${process.version}, ${cpus().length} cores; CPU times from /proc/self/stat cutime+cstime (10 ms ticks)`);
const one = await oneReader(20);
console.log('one reader run, started as root, dropping to the tenant (20 runs each):');
console.log(line('node -e 0 (Node start alone)', one.bare));
console.log(line('reader, empty vassal file (start + modules + privilege drop)', one.empty));
console.log(line('reader, typical vassal file', one.reader));
console.log(`  parsing that file in-process (warm): ${fmt(one.parse)}`);
// Default mode with uid/gid set starts workers exactly as tyrant mode does (account lookups, setpriv to the user):
// the difference to tyrant mode is the reader.
const asTenant = `uid = ${uid}\ngid = ${gid}\n`;
for (const [tyrant, owners, extra] of [[false, 'one', ''], [false, 'one', asTenant], [true, 'one', ''], [true, 'many', '']]) {
  const many = await startMany(100, tyrant, owners, extra);
  const mode = tyrant ? `emperor-tyrant, ${owners === 'one' ? 'one owner' : '100 owners'}` : `default mode${extra ? ', uid/gid = the tenant' : ''}`;
  console.log(`100 vassals at once, ${mode}: every vassal has a worker after ${many.totalMs.toFixed(0)} ms (from the emperor's start)`);
  if (many.readerWall) console.log(`  ${many.readers} readers for ${many.reads} files: reader wall ${fmt(many.readerWall)}; waiting for a reader ${fmt(many.queued)}`);
}
