// Does the daemon grow? The emperor's RSS sampled every 100 rolling reloads of a 2-worker vassal (each reload
// spawns and stops workers, parses the file, logs). A leak shows as a steady climb; V8's heap breathing does not.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, rssKiB, startEmperor, tempDir, until } from './lib.mjs';

function ini(dir, n) {
  writeFileSync(
    path.join(dir, 'app.ini'),
    ['[uwsgi]', `command = ${process.execPath} ${FIXTURES}serve-on-fd3.mjs`, 'processes = 2', 'socket = app.sock', 'notification-fd = auto', `env = GREETING=${n}`, ''].join('\n'),
  );
}

export async function rssGrowth(reloads = 400, every = 100) {
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
    return { rolled, samples };
  } finally {
    await emperor.stop();
    dir.remove();
  }
}

export function describeGrowth(r) {
  return `emperor RSS over ${r.rolled} rolling reloads: ${r.samples.map((s) => `${s.reloads}: ${(s.rssKiB / 1024).toFixed(1)} MiB`).join(', ')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(describeGrowth(await rssGrowth()));
}
