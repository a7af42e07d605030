// Profiling evidence, without changing the emperor: Node's own flags on the emperor's command line.
//
//   node bench/profile.mjs cpu [VASSALS] [WORKERS] [node|sleep] [tyrant]   the scale start under --cpu-prof: where
//                                                                  the emperor's time goes, from its start to all ready
//   node bench/profile.mjs cpu-idle [VASSALS] [WORKERS] [node|sleep] [SECONDS]   what the emperor does while idle
//   node bench/profile.mjs idle-threads [VASSALS] [WORKERS] [node|sleep] [SECONDS]  the same without a profiler,
//                                                                  the emperor's CPU by thread
//   node bench/profile.mjs heap [RELOADS]                          heap snapshots (--heapsnapshot-signal=SIGUSR2)
//                                                                  before and after RELOADS rolling reloads: what grows
//   node bench/profile.mjs summary FILE.cpuprofile                 the CPU summary of a profile made elsewhere
//   node bench/profile.mjs diff A.heapsnapshot B.heapsnapshot      the growth between two snapshots
//   EMPEROR_NODE_ARGS='--max-semi-space-size=1' node bench/profile.mjs heap 200   the same with more Node options
//
// Files go to bench/results/profile-DATE/ (PROFILE_DIR overrides). The CPU profile needs one shim: the emperor
// listens to SIGPROF (to ignore it), which stops V8's sampler; bench/workers/keep-sigprof.mjs, preloaded with
// --import, keeps that listener out for the profiling run. SIGUSR2 is one of the signals the emperor
// handles by logging and ignoring it (src/runtime/signals.ts); Node's --heapsnapshot-signal adds its own listener
// beside that one, so the snapshot needs no change in src/.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLK_TCK, memoryKiB, memoryMap, procStat, ROOT, startEmperor, tempDir, until } from './lib.mjs';
import { TENANT, tenantAccount, writeFleet } from './scale.mjs';

export const KEEP_SIGPROF = fileURLToPath(new URL('workers/keep-sigprof.mjs', import.meta.url));
/** EMPEROR_NODE_ARGS: more options for the emperor's Node (an experiment, e.g. --max-semi-space-size=1). */
const EXTRA_NODE_ARGS = (process.env.EMPEROR_NODE_ARGS ?? '').split(' ').filter(Boolean);

// ---- CPU profile --------------------------------------------------------------------------------------------------

/** Where a frame's code comes from: a package, one of our dist/ files, a Node internal module, or V8's pseudo-frames. */
function moduleOf(frame) {
  const url = frame.url ?? '';
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /\/dist\/(.+)$/.exec(url);
  if (ours) return `dist/${ours[1]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

/**
 * What a sample's CPU was spent on, from its whole stack (leaf first): the first rule, in this order, that any frame
 * matches. Order matters: pino's work is logging wherever it is called from; a spawn is charged to whoever spawned.
 */
const CATEGORIES = [
  ['module loading (import/require, compile)', (f) => /^node:internal\/modules\//.test(f.url) || f.functionName === 'compileSourceTextModule'],
  ['logging (pino)', (f) => /node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|safe-stable-stringify|on-exit-leak-free|atomic-sleep)\//.test(f.url) || /\/dist\/runtime\/(logger|log-sink)\.js$/.test(f.url)],
  ['account lookups (getent)', (f) => /\/dist\/runtime\/accounts\.js$/.test(f.url)],
  ['tenant reader (tyrant config reads)', (f) => /\/dist\/tenant-reader\//.test(f.url)],
  ['sockets: bind helper spawn, lease, hand-off', (f) => /\/dist\/socket\//.test(f.url)],
  ['worker spawn (execa, launch plan)', (f) => /node_modules\/execa\//.test(f.url) || /\/dist\/worker\/(worker|launch-plan)\.js$/.test(f.url)],
  ['worker readiness, notify socket, output', (f) => /\/dist\/worker\//.test(f.url)],
  ['config parsing', (f) => /\/dist\/config\//.test(f.url)],
  ['watching (chokidar, scans, settle)', (f) => /node_modules\/(chokidar|readdirp)\//.test(f.url) || /\/dist\/emperor\/(vassal-watcher|vassal-files|vassal-source|file-stamp|settle-timer|watch-advice|touch-reload)\.js$/.test(f.url)],
  ['vassal lifecycle (group plan, rolls)', (f) => /\/dist\/vassal\//.test(f.url)],
  ['emperor (reconcile, sync plan)', (f) => /\/dist\/emperor\//.test(f.url)],
  ['runtime (signals, locks, pidfile, /proc reads)', (f) => /\/dist\/runtime\//.test(f.url)],
  ['child processes: pipes, exits (no caller of ours on the stack)', (f) => /^node:(internal\/)?child_process/.test(f.url)],
  ['streams, sockets, timers (Node internals, no caller of ours)', (f) => /^node:/.test(f.url)],
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
  ['(program): V8/libuv native work without a JS frame', (f) => f.functionName === '(program)'],
];

/** Who called child_process.spawn, for the samples inside it (a spawn forks and execs synchronously in libuv). */
const SPAWNERS = [
  ['bind helper', (f) => /\/dist\/socket\//.test(f.url)],
  ['getent (account lookups)', (f) => /\/dist\/runtime\/accounts\.js$/.test(f.url)],
  ['tenant reader', (f) => /\/dist\/tenant-reader\//.test(f.url)],
  ['worker (execa)', (f) => /node_modules\/execa\//.test(f.url) || /\/dist\/worker\//.test(f.url)],
];

/**
 * Reads a .cpuprofile: samples with their duration (µs) and stack (leaf first). `window` (ms from the profile's
 * start): only the samples taken within it.
 */
function loadProfile(file, window) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map();
  const stackOf = (id) => {
    if (!stacks.has(id)) {
      const frames = [];
      for (let at = id; at !== undefined; at = parent.get(at)) frames.push(byId.get(at).callFrame);
      stacks.set(id, frames);
    }
    return stacks.get(id);
  };
  // timeDeltas[i] is the time from sample i-1 to sample i: it is charged to sample i-1.
  let at = 0;
  const samples = [];
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i];
    if (!window || (at >= window.fromMs * 1000 && at < window.toMs * 1000)) samples.push({ id, at, micros: profile.timeDeltas[i + 1] ?? 0 });
  });
  const wallMicros = window ? (window.toMs - window.fromMs) * 1000 : profile.endTime - profile.startTime;
  return { samples, stackOf, wallMicros };
}

const addTo = (map, key, micros) => map.set(key, (map.get(key) ?? 0) + micros);
const top = (map, n) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);

/** Where the CPU of a profile went: by category, by module (self time), by function (self time), spawns by caller. */
export function summariseCpuProfile(file, window) {
  const { samples, stackOf, wallMicros } = loadProfile(file, window);
  const categories = new Map();
  const modules = new Map();
  const functions = new Map();
  const spawns = new Map();
  // Main-thread time by 5 s of the profile: idle, inside spawns of bind helpers, of other children, the rest.
  const timeline = [];
  let busy = 0;
  for (const { id, at, micros } of samples) {
    const stack = stackOf(id);
    const leaf = stack[0];
    const bucket = (timeline[Math.floor(at / 5e6)] ??= { idle: 0, bindSpawn: 0, otherSpawn: 0, other: 0 });
    const inSpawn = stack.some((f) => /(^|\.)spawn$/.test(f.functionName) && /^node:internal\/child_process$/.test(f.url));
    if (leaf.functionName === '(idle)') bucket.idle += micros;
    else if (inSpawn && stack.some((f) => /\/dist\/socket\//.test(f.url))) bucket.bindSpawn += micros;
    else if (inSpawn) bucket.otherSpawn += micros;
    else bucket.other += micros;
    if (leaf.functionName === '(idle)') continue;
    busy += micros;
    const category = CATEGORIES.find(([, match]) => stack.some(match))?.[0] ?? 'other JavaScript';
    addTo(categories, category, micros);
    addTo(modules, moduleOf(leaf), micros);
    const where = leaf.url ? `${moduleOf(leaf)}:${leaf.lineNumber + 1}` : '';
    addTo(functions, `${leaf.functionName || '(anonymous)'} ${where}`.trim(), micros);
    if (inSpawn) {
      addTo(spawns, SPAWNERS.find(([, match]) => stack.some(match))?.[0] ?? 'other', micros);
    }
  }
  return { file, wallMs: wallMicros / 1000, busyMs: busy / 1000, categories: top(categories, 30), modules: top(modules, 25), functions: top(functions, 30), spawns: top(spawns, 10), timeline };
}

export function describeCpuSummary(s) {
  const ms = (micros) => `${(micros / 1000).toFixed(0).padStart(6)} ms`;
  const pct = (micros) => `${((100 * micros) / 1000 / s.busyMs).toFixed(1).padStart(5)} %`;
  const table = (rows) => rows.map(([name, micros]) => `  ${ms(micros)} ${pct(micros)}  ${name}`).join('\n');
  return [
    `${path.basename(s.file)}: the main thread was busy (not waiting for events) in samples worth ${s.busyMs.toFixed(0)} ms over ${s.wallMs.toFixed(0)} ms.`,
    'Samples are wall time: a thread preempted by other processes, or blocked in a system call (spawn waits for the',
    "child's exec), still counts; /proc's CPU time counts only time on a CPU, but of all threads.",
    'by category (a sample goes to the first category any frame of its stack matches, in the order listed in bench/profile.mjs):',
    table(s.categories),
    'inside child_process.spawn (fork + exec, synchronous in libuv), by caller:',
    table(s.spawns),
    'main thread by 5 s of the profile (ms): idle, in spawns of bind helpers, in other spawns, anything else:',
    ...s.timeline.map((b, i) => `  ${String(i * 5).padStart(4)} s ${[b?.idle, b?.bindSpawn, b?.otherSpawn, b?.other].map((x) => ((x ?? 0) / 1000).toFixed(0).padStart(7)).join(' ')}`),
    'self time by module:',
    table(s.modules),
    'self time by function:',
    table(s.functions),
  ].join('\n');
}

/** The scale start (writeFleet) under --cpu-prof; the profile covers the emperor from its start to its exit. */
export async function cpuProfile({ vassals = 100, workers = 2, program = 'node', tyrant = false, out }) {
  const tenant = tyrant ? tenantAccount() : undefined;
  if (tyrant && !tenant) throw new Error(`tyrant mode needs the test user ${TENANT}`);
  const fleet = writeFleet({ vassals, workers, program, tenant });
  mkdirSync(out, { recursive: true });
  let ready = 0;
  const started = performance.now();
  const emperor = startEmperor(['--emperor', fleet.vassalDir, ...(tyrant ? ['--emperor-tyrant'] : [])], {}, {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${out}`, '--cpu-prof-name=emperor-start.cpuprofile', '--import', KEEP_SIGPROF, ...EXTRA_NODE_ARGS],
    onRecord: (r) => r.event === 'worker.ready' && r.generation === 1 && ready++,
  });
  try {
    await until(() => ready >= vassals * workers, Math.max(120_000, vassals * workers * 500), 20);
    const readyMs = performance.now() - started;
    const emperorCpu = procStat(emperor.child.pid);
    // Stopping right away keeps the profile to the start (plus the stop, which the summary shows apart).
    await emperor.stop();
    return { readyMs, emperorCpuMs: emperorCpu.cpuMs, emperorUserMs: emperorCpu.userMs, emperorSystemMs: emperorCpu.systemMs, file: path.join(out, 'emperor-start.cpuprofile') };
  } finally {
    emperor.child.kill('SIGKILL');
    fleet.remove();
  }
}

/**
 * The emperor idle with the scale fleet: the profile covers its whole run, and the summary only the `idleSeconds`
 * window that starts 5 s after every worker is ready (times from the emperor's spawn, which is within ~0.1 s of
 * the profile's start). Also the emperor's CPU over that window from /proc.
 */
export async function cpuIdleProfile({ vassals = 100, workers = 2, program = 'sleep', idleSeconds = 30, out }) {
  const fleet = writeFleet({ vassals, workers, program });
  mkdirSync(out, { recursive: true });
  let ready = 0;
  const started = performance.now();
  const emperor = startEmperor(['--emperor', fleet.vassalDir], {}, {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${out}`, '--cpu-prof-name=emperor-idle.cpuprofile', '--import', KEEP_SIGPROF, ...EXTRA_NODE_ARGS],
    onRecord: (r) => r.event === 'worker.ready' && r.generation === 1 && ready++,
  });
  try {
    await until(() => ready >= vassals * workers, Math.max(120_000, vassals * workers * 600), 20);
    await sleep(5000);
    const fromMs = performance.now() - started;
    const before = procStat(emperor.child.pid);
    await sleep(idleSeconds * 1000);
    const after = procStat(emperor.child.pid);
    const toMs = performance.now() - started;
    await emperor.stop();
    return { window: { fromMs, toMs }, cpuMs: after.cpuMs - before.cpuMs, userMs: after.userMs - before.userMs, systemMs: after.systemMs - before.systemMs, file: path.join(out, 'emperor-idle.cpuprofile') };
  } finally {
    emperor.child.kill('SIGKILL');
    fleet.remove();
  }
}

/** CPU time (ms) of a process's main thread and of its other threads (/proc/PID/task/TID/stat and comm). */
function threadCpu(pid) {
  const byName = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const name = Number(tid) === pid ? `${comm} (main thread)` : `${comm} (other threads: libuv's pool, V8's helpers)`;
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName[name] = (byName[name] ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
    } catch {
      // thread gone
    }
  }
  return byName;
}

/**
 * The emperor idle with the scale fleet, without a profiler: its CPU over `idleSeconds`, 5 s after every worker is
 * ready, by thread (main thread, libuv's threadpool, V8's helpers, ...).
 */
export async function idleThreads({ vassals = 100, workers = 2, program = 'sleep', idleSeconds = 30 }) {
  const fleet = writeFleet({ vassals, workers, program });
  let ready = 0;
  const emperor = startEmperor(['--emperor', fleet.vassalDir], {}, { nodeArgs: EXTRA_NODE_ARGS, onRecord: (r) => r.event === 'worker.ready' && r.generation === 1 && ready++ });
  try {
    await until(() => ready >= vassals * workers, Math.max(120_000, vassals * workers * 600), 20);
    await sleep(5000);
    const before = threadCpu(emperor.child.pid);
    const stat0 = procStat(emperor.child.pid);
    await sleep(idleSeconds * 1000);
    const after = threadCpu(emperor.child.pid);
    const stat1 = procStat(emperor.child.pid);
    const threads = Object.fromEntries(Object.keys(after).map((name) => [name, after[name] - (before[name] ?? 0)]));
    await emperor.stop();
    return { idleSeconds, userMs: stat1.userMs - stat0.userMs, systemMs: stat1.systemMs - stat0.systemMs, threads };
  } finally {
    emperor.child.kill('SIGKILL');
    fleet.remove();
  }
}

// ---- Heap snapshots -----------------------------------------------------------------------------------------------

/** Totals of a .heapsnapshot by constructor/kind: { key: { count, bytes } }, and the whole heap's size. */
export function heapTotals(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[fields.indexOf('type')];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const width = fields.length;
  const byKey = new Map();
  let bytes = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const name = snap.strings[snap.nodes[i + nameAt]];
    const size = snap.nodes[i + sizeAt];
    bytes += size;
    // Objects by constructor; strings, code and arrays by kind (their names are their contents).
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${name}` : `(${type})`;
    const entry = byKey.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += size;
    byKey.set(key, entry);
  }
  return { bytes, nodes: snap.nodes.length / width, byKey };
}

/** What grew from snapshot `a` to `b`: the largest increases in bytes and in count. */
export function heapDiff(a, b) {
  const A = heapTotals(a);
  const B = heapTotals(b);
  const rows = [];
  for (const key of new Set([...A.byKey.keys(), ...B.byKey.keys()])) {
    const x = A.byKey.get(key) ?? { count: 0, bytes: 0 };
    const y = B.byKey.get(key) ?? { count: 0, bytes: 0 };
    rows.push({ key, count: y.count - x.count, bytes: y.bytes - x.bytes, countAfter: y.count, bytesAfter: y.bytes });
  }
  return {
    before: { bytes: A.bytes, nodes: A.nodes },
    after: { bytes: B.bytes, nodes: B.nodes },
    byBytes: [...rows].sort((p, q) => q.bytes - p.bytes).slice(0, 20),
    byCount: [...rows].sort((p, q) => q.count - p.count).slice(0, 20),
  };
}

export function describeHeapDiff(d) {
  const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
  const row = (r) => `  ${r.count >= 0 ? '+' : ''}${r.count} objects, ${r.bytes >= 0 ? '+' : ''}${kib(r.bytes)}  ${r.key}  (now ${r.countAfter}, ${kib(r.bytesAfter)})`;
  return [
    `heap: ${kib(d.before.bytes)} in ${d.before.nodes} objects -> ${kib(d.after.bytes)} in ${d.after.nodes} objects`,
    'largest growth in bytes:',
    ...d.byBytes.filter((r) => r.bytes > 0).map(row),
    'largest growth in count:',
    ...d.byCount.filter((r) => r.count > 0).map(row),
  ].join('\n');
}

const SH_READY = "/bin/sh -c 'echo >&\"$NOTIFICATION_FD\"; exec /bin/sleep 3600'";

/**
 * One vassal (2 workers, a unix socket, readiness on the notification fd, from sh), reloaded by editing its file:
 * `warmup` reloads, a heap snapshot, `reloads` more with the emperor's memory sampled every `every` reloads (writing
 * a snapshot itself allocates, so growth is counted from just after the first one), a second snapshot.
 */
export async function heapGrowth({ reloads = 500, warmup = 20, every = 50, out }) {
  mkdirSync(out, { recursive: true });
  const dir = tempDir('bench-heap');
  const file = path.join(dir.path, 'app.ini');
  const write = (generation) =>
    writeFileSync(file, ['[uwsgi]', `command = ${SH_READY}`, 'processes = 2', 'socket = app.sock', 'notification-fd = auto', 'vacuum = true', `env = GENERATION=${generation}`, ''].join('\n'));
  write(0);
  const emperor = startEmperor(['--emperor', dir.path], {}, { nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${out}`, ...EXTRA_NODE_ARGS] });
  let reloaded = 0;
  const roll = async (generation) => {
    const seen = emperor.records.length;
    write(generation);
    await until(() => emperor.records.slice(seen).some((r) => r.event === 'vassal.reloaded'), 60_000, 5);
    reloaded++;
    // Only this harness keeps log records; drop them so that it does not grow itself.
    emperor.records.length = 0;
  };
  const sample = (label) => ({ label, reloads: reloaded, ...memoryKiB(emperor.child.pid), ...memoryMap(emperor.child.pid) });
  const snapshot = async () => {
    const before = new Set(readdirSync(out));
    emperor.child.kill('SIGUSR2');
    // Node's listener writes the snapshot synchronously, before the emperor's own listener logs the signal.
    await until(() => emperor.records.some((r) => r.event === 'emperor.signal' && r.signal === 'SIGUSR2'), 120_000, 50);
    const name = readdirSync(out).find((n) => n.endsWith('.heapsnapshot') && !before.has(n));
    emperor.records.length = 0;
    return path.join(out, name);
  };
  try {
    await until(() => emperor.records.some((r) => r.event === 'vassal.ready'), 60_000, 10);
    const samples = [sample('started')];
    for (let i = 1; i <= warmup; i++) await roll(i);
    samples.push(sample('warmed up'));
    const first = await snapshot();
    samples.push(sample('after the first snapshot'));
    for (let i = 1; i <= reloads; i++) {
      await roll(warmup + i);
      if (i % every === 0) samples.push(sample(''));
    }
    const second = await snapshot();
    return { warmup, reloads, first, second, samples };
  } finally {
    await emperor.stop();
    dir.remove();
  }
}

export function describeSamples(samples) {
  const mib = (k) => `${(k / 1024).toFixed(1)}`.padStart(6);
  return [
    'reloads    RSS    PSS   anon    brk  files  (MiB; anon: V8 heap, mmapped malloc chunks, thread arenas; brk: malloc main arena)',
    ...samples.map((s) => `${String(s.reloads).padStart(7)} ${mib(s.rssKiB)} ${mib(s.pssKiB)} ${mib(s.anonymous)} ${mib(s.brk)} ${mib(s.files)}  ${s.label}`),
  ].join('\n');
}

// ---- command line -------------------------------------------------------------------------------------------------

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [what, ...args] = process.argv.slice(2);
  const out = process.env.PROFILE_DIR ?? path.join(ROOT, 'bench', 'results', `profile-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
  if (what === 'cpu') {
    const [vassals = '100', workers = '2', program = 'node', mode] = args;
    const r = await cpuProfile({ vassals: Number(vassals), workers: Number(workers), program, tyrant: mode === 'tyrant', out });
    console.log(`${vassals} vassals x ${workers} ${program} workers${mode === 'tyrant' ? ' (tyrant mode)' : ''}: all ready after ${r.readyMs.toFixed(0)} ms; emperor CPU until then ${r.emperorCpuMs} ms (user ${r.emperorUserMs}, system ${r.emperorSystemMs}; /proc, all threads); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(describeCpuSummary(summariseCpuProfile(r.file)));
  } else if (what === 'cpu-idle') {
    const [vassals = '100', workers = '2', program = 'sleep', seconds = '30'] = args;
    const r = await cpuIdleProfile({ vassals: Number(vassals), workers: Number(workers), program, idleSeconds: Number(seconds), out });
    console.log(`${vassals} vassals x ${workers} ${program} workers, idle for ${seconds} s (${(r.window.fromMs / 1000).toFixed(1)}-${(r.window.toMs / 1000).toFixed(1)} s into the profile): emperor CPU ${r.cpuMs} ms (user ${r.userMs}, system ${r.systemMs}; /proc); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(describeCpuSummary(summariseCpuProfile(r.file, r.window)));
  } else if (what === 'idle-threads') {
    const [vassals = '100', workers = '2', program = 'sleep', seconds = '30'] = args;
    const r = await idleThreads({ vassals: Number(vassals), workers: Number(workers), program, idleSeconds: Number(seconds) });
    console.log(`${vassals} vassals x ${workers} ${program} workers, idle for ${seconds} s, no profiler: emperor CPU user ${r.userMs} ms, system ${r.systemMs} ms; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    for (const [name, ms] of Object.entries(r.threads).sort((a, b) => b[1] - a[1])) console.log(`  ${String(ms).padStart(6)} ms  thread ${name}`);
  } else if (what === 'heap') {
    const r = await heapGrowth({ reloads: Number(args[0] ?? 500), out });
    console.log(describeSamples(r.samples));
    console.log(`snapshots: ${r.first} (after ${r.warmup} reloads), ${r.second} (${r.reloads} reloads later)`);
    console.log(describeHeapDiff(heapDiff(r.first, r.second)));
  } else if (what === 'summary') {
    console.log(describeCpuSummary(summariseCpuProfile(args[0])));
  } else if (what === 'diff') {
    console.log(describeHeapDiff(heapDiff(args[0], args[1])));
  } else {
    console.error('usage: node bench/profile.mjs cpu [VASSALS] [WORKERS] [node|sleep] [tyrant] | cpu-idle [VASSALS] [WORKERS] [node|sleep] [SECONDS] | heap [RELOADS] | summary FILE | diff A B');
    process.exitCode = 2;
  }
}
