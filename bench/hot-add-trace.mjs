// Where the time goes in one hot-add, from the emperor's own log: a complete vassal file (a Node app, 2 workers,
// a unix socket) renamed into the watched directory, until its socket answers HTTP 200. Each round is split at
// the emperor's records (their `time`, wall-clock ms):
//   rename -> emperor.sync begins (its time minus durationMs), the sync itself, -> vassal.start (config read,
//   account lookup, socket lease through the bind helper, log setup), -> first worker.spawn, first -> second
//   spawn, first spawn -> its worker.ready (the app's own start), and the whole rename -> 200.
// Rounds are 300 ms apart, so that each finds the emperor idle (and a bind helper started ahead of time).
//   node bench/hot-add-trace.mjs [ROUNDS]
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIXTURES, get, startEmperor, tempDir, until } from './lib.mjs';

const rounds = Number(process.argv[2] ?? 10);
const text = (i) =>
  ['[uwsgi]', `command = ${process.execPath} ${FIXTURES}serve-on-fd3.mjs`, 'processes = 2', `socket = app${i}.sock`, 'notification-fd = auto', 'vacuum = true', ''].join('\n');
const at = (record) => Date.parse(record.time);

const dir = tempDir('bench-trace');
const staging = path.join(dir.path, '.staging');
mkdirSync(staging);
const emperor = startEmperor(['--emperor', dir.path]);
const columns = ['event -> sync', 'sync', 'sync -> vassal.start', 'start -> spawn 1', 'spawn 1 -> spawn 2', 'spawn 1 -> ready 1', 'rename -> 200'];
const rows = [];
try {
  await until(() => emperor.records.some((r) => r.event === 'emperor.start'));
  for (let i = 0; i < rounds; i++) writeFileSync(path.join(staging, `app${i}.ini`), text(i));
  // The staged files' mtime must be older than the ctime the rename gives them (a clock tick at least).
  await sleep(50);
  for (let i = 0; i < rounds; i++) {
    await sleep(300);
    const name = `app${i}.ini`;
    const socketPath = path.join(dir.path, `app${i}.sock`);
    const renamedAt = Date.now();
    renameSync(path.join(staging, name), path.join(dir.path, name));
    await until(async () => (await get({ socketPath })).status === 200, 30_000, 1);
    const answeredAt = Date.now();
    const mine = (event) => emperor.records.filter((r) => r.event === event && r.vassal === name);
    await until(() => mine('worker.ready').length > 0 && mine('worker.spawn').length > 1);
    const sync = emperor.records.find((r) => r.event === 'emperor.sync' && (r.start ?? []).includes(path.join(dir.path, name)));
    const [start] = mine('vassal.start');
    const [spawn1, spawn2] = mine('worker.spawn');
    const ready = mine('worker.ready').find((r) => r.pid === spawn1.pid) ?? mine('worker.ready')[0];
    rows.push([at(sync) - sync.durationMs - renamedAt, sync.durationMs, at(start) - at(sync), at(spawn1) - at(start), at(spawn2) - at(spawn1), at(ready) - at(spawn1), answeredAt - renamedAt]);
    rmSync(path.join(dir.path, name));
    await until(() => !existsSync(socketPath));
  }
} finally {
  await emperor.stop();
  dir.remove();
}
const median = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[rows.length >> 1];
console.log(`hot-add, ${rounds} rounds (ms; the first round also starts the first bind helper):`);
for (const [k, column] of columns.entries()) console.log(`  ${column.padEnd(22)} median ${String(median(k)).padStart(4)}   ${rows.map((r) => r[k]).join(' ')}`);
