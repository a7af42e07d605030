// bench/profile.mjs: how a CPU profile is summarised and two heap snapshots compared (on small hand-made files), and
// why the emperor's profiling run preloads bench/workers/keep-sigprof.mjs (a real Node under --cpu-prof).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { heapDiff, KEEP_SIGPROF, summariseCpuProfile } from '../../bench/profile.mjs';
import { sandbox } from '../support/sandbox.js';

const box = sandbox('sv-bench-profile');

const frame = (functionName: string, url = '') => ({ functionName, url, scriptId: '0', lineNumber: 0, columnNumber: 0 });

describe('summariseCpuProfile', () => {
  it('charges each sample to the first category its stack matches, and a spawn to whoever called it', () => {
    const file = box.file('a.cpuprofile');
    const nodes = [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 5, 6, 8] },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('lease', 'file:///x/dist/socket/socket-registry.js'), children: [4] },
      { id: 4, callFrame: frame('ChildProcess.spawn', 'node:internal/child_process') },
      { id: 5, callFrame: frame('write', 'file:///x/node_modules/pino/lib/proto.js') },
      { id: 6, callFrame: frame('spawnWorker', 'file:///x/dist/worker/worker.js'), children: [7] },
      { id: 7, callFrame: frame('ChildProcess.spawn', 'node:internal/child_process') },
      { id: 8, callFrame: frame('(garbage collector)') },
    ];
    // timeDeltas[i] is the time before sample i, charged to sample i - 1.
    const samples = [4, 4, 5, 2, 8, 7, 4];
    const timeDeltas = [0, 1000, 1000, 1000, 1000, 1000, 3000];
    writeFileSync(file, JSON.stringify({ nodes, startTime: 0, endTime: 9000, samples, timeDeltas }));
    const s = summariseCpuProfile(file);
    expect(s.busyMs).toBe(7);
    expect(Object.fromEntries(s.categories)).toEqual({
      'sockets: bind helper spawn, lease, hand-off': 2000,
      'logging (pino)': 1000,
      'garbage collector': 1000,
      'worker spawn (execa, launch plan)': 3000,
    });
    expect(Object.fromEntries(s.spawns)).toEqual({ 'bind helper': 2000, 'worker (execa)': 3000 });
    expect(s.modules[0]).toEqual(['node:internal/child_process', 5000]);
  });
});

describe('heapDiff', () => {
  const fields = ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'];
  const types = [['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic'], 'string', 'number', 'number', 'number', 'number', 'number'];
  const snapshot = (name: string, nodes: [type: number, name: number, size: number][]) => {
    const file = box.file(name);
    const flat = nodes.flatMap(([type, n, size], id) => [type, n, id, size, 0, 0, 0]);
    writeFileSync(file, JSON.stringify({ snapshot: { meta: { node_fields: fields, node_types: types } }, nodes: flat, strings: ['', 'Foo', 'some text'] }));
    return file;
  };

  it('counts objects by constructor and strings by kind, and lists what grew', () => {
    const a = snapshot('a.heapsnapshot', [[3, 1, 10]]);
    const b = snapshot('b.heapsnapshot', [[3, 1, 10], [3, 1, 10], [3, 1, 10], [2, 2, 20]]);
    const d = heapDiff(a, b);
    expect(d.before).toEqual({ bytes: 10, nodes: 1 });
    expect(d.after).toEqual({ bytes: 50, nodes: 4 });
    expect(d.byBytes.slice(0, 2)).toEqual([
      { key: 'object Foo', count: 2, bytes: 20, countAfter: 3, bytesAfter: 30 },
      { key: '(string)', count: 1, bytes: 20, countAfter: 1, bytesAfter: 20 },
    ]);
    expect(d.byCount[0]?.key).toBe('object Foo');
  });
});

describe('keep-sigprof preload', () => {
  // A process that listens to SIGPROF (as the emperor does, to ignore it), then keeps its main thread busy for 600 ms
  // in 20 ms steps, returning to its event loop between them (as the emperor does).
  const busy =
    "process.on('SIGPROF', () => {}); const t = Date.now(); const step = () => { const s = Date.now(); while (Date.now() - s < 20) {} if (Date.now() - t < 600) setImmediate(step); }; step();";
  const profiled = (dir: string, preload: string[]) => {
    mkdirSync(dir);
    const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...preload, '-e', busy], { env: { PATH: process.env.PATH } });
    const [name] = readdirSync(dir);
    return { signal: run.signal, status: run.status, busyMs: name ? summariseCpuProfile(path.join(dir, name)).busyMs : 0 };
  };

  it('without it, a process that listens to SIGPROF is not profiled (V8 samples with SIGPROF): it dies of it or its samples stop', () => {
    const bare = profiled(box.file('without'), []);
    expect(bare.signal === 'SIGPROF' || bare.busyMs < 300).toBe(true);
  });

  it('with it, the same process is sampled throughout and exits normally', () => {
    const kept = profiled(box.file('with'), ['--import', KEEP_SIGPROF]);
    expect(kept).toMatchObject({ signal: null, status: 0 });
    expect(kept.busyMs).toBeGreaterThan(500);
  });
});
