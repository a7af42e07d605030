// Does the daemon grow? The emperor's RSS sampled every 100 rolling reloads of a 2-worker vassal (each reload
// spawns and stops workers, parses the file, logs), and again once it has been idle for IDLE_MS. A leak shows as a
// steady climb that stays; V8's heap breathing does not: while the reloads go on V8 puts off its full collections,
// and its memory reducer gives the garbage back some seconds after they stop (it starts 8 s after the last one).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIXTURES, rssKiB, startEmperor, tempDir, until } from './lib.mjs';

function ini(dir, n) {
  writeFileSync(
    path.join(dir, 'app.ini'),
    ['[uwsgi]', `command = ${process.execPath} ${FIXTURES}serve-on-fd3.mjs`, 'processes = 2', 'socket = app.sock', 'notification-fd = auto', `env = GREETING=${n}`, ''].join('\n'),
  );
}

/** How long the emperor is left idle after the reloads before the last sample (ms). */
export const IDLE_MS = 30_000;

export async function rssGrowth(reloads = 400, every = 100, idleMs = IDLE_MS) {
  const dir = tempDir('bench-grow');
  ini(dir.path, 0);
  const emperor = startEmperor(['--emperor', dir.path]);
  let rolled = 0;
  const samples = [];
  try {
    await until(() => emperor.records.some((r) => r.event === 'vassal.ready'));
    samples.push({ reloads: 0, rssKiB: rssKiB(emperor.child.pid) });
    for (let i = 1; i <= reloads; i++) {
      ini(dir.path, i);
      await until(() => emperor.records.some((r) => r.event === 'vassal.reloaded'), 30_000, 5);
      // Only this harness keeps log records; drop them so it does not grow itself.
      emperor.records.length = 0;
      rolled++;
      if (i % every === 0) samples.push({ reloads: i, rssKiB: rssKiB(emperor.child.pid) });
    }
    await sleep(idleMs);
    samples.push({ reloads: reloads, idleS: idleMs / 1000, rssKiB: rssKiB(emperor.child.pid) });
    return { rolled, samples };
  } finally {
    await emperor.stop();
    dir.remove();
  }
}

export function describeGrowth(r) {
  return `emperor RSS over ${r.rolled} rolling reloads: ${r.samples.map((s) => `${s.reloads}${s.idleS ? ` and ${s.idleS} s idle` : ''}: ${(s.rssKiB / 1024).toFixed(1)} MiB`).join(', ')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(describeGrowth(await rssGrowth()));
}
