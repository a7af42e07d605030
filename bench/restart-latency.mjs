// Worker restart latency: SIGKILL of a worker -> replacement spawned, and -> replacement ready (median of 10);
// and the time from editing a vassal file to the first worker of the new generation being spawned (median of 10).
// Times come from the emperor's own log timestamps (ms) against the moment this process acted.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, fmt, startEmperor, summary, tempDir, until } from './lib.mjs';

function ini(dir, greeting) {
  writeFileSync(
    path.join(dir, 'app.ini'),
    ['[uwsgi]', `command = ${process.execPath} ${FIXTURES}serve-on-fd3.mjs`, 'processes = 2', 'socket = app.sock', 'notification-fd = auto', 'healthy-after = 0.1', `env = GREETING=${greeting}`, ''].join('\n'),
  );
}

const at = (r) => Date.parse(r.time);

export async function restartLatency(rounds = 10) {
  const dir = tempDir('bench-restart');
  ini(dir.path, 'g0');
  const emperor = startEmperor(['--emperor', dir.path]);
  const spawned = [];
  const ready = [];
  const editToSpawn = [];
  try {
    await until(() => emperor.records.some((r) => r.event === 'vassal.ready'));
    for (let i = 0; i < rounds; i++) {
      const seen = emperor.records.length;
      const victim = emperor.records.filter((r) => r.event === 'worker.ready').at(-1).pid;
      const t0 = Date.now();
      process.kill(victim, 'SIGKILL');
      const spawn = await until(() => emperor.records.slice(seen).find((r) => r.event === 'worker.spawn'));
      const up = await until(() => emperor.records.slice(seen).find((r) => r.event === 'worker.ready' && r.pid === spawn.pid));
      spawned.push(at(spawn) - t0);
      ready.push(at(up) - t0);
      // Each round must measure a first failure (restarted at once), not a crash loop (backed off): wait until the
      // replacement has been healthy for longer than healthy-after (0.1 s here).
      await until(() => Date.now() - at(up) > 200, 5000, 10);
    }
    for (let i = 1; i <= rounds; i++) {
      const seen = emperor.records.length;
      const t0 = Date.now();
      ini(dir.path, `g${i}`);
      const spawn = await until(() => emperor.records.slice(seen).find((r) => r.event === 'worker.spawn'));
      editToSpawn.push(at(spawn) - t0);
      await until(() => emperor.records.slice(seen).some((r) => r.event === 'vassal.reloaded'), 30_000, 5);
    }
  } finally {
    await emperor.stop();
    dir.remove();
  }
  return { spawned: summary(spawned), ready: summary(ready), editToSpawn: summary(editToSpawn) };
}

export function describeRestart(r) {
  return [
    `worker SIGKILL -> replacement spawned: ${fmt(r.spawned)}`,
    `worker SIGKILL -> replacement ready: ${fmt(r.ready)}`,
    `vassal file edited -> first new-generation worker spawned: ${fmt(r.editToSpawn)}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(describeRestart(await restartLatency()));
}
