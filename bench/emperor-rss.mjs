// The emperor's resident memory with the two example vassals running (copied to a temp dir, TCP port moved).
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, ROOT, rssKiB, startEmperor, tempDir, until } from './lib.mjs';

export async function emperorRss(port = 18731) {
  const dir = tempDir('bench-rss');
  cpSync(path.join(ROOT, 'vassals.example'), dir.path, { recursive: true });
  const status = path.join(dir.path, 'status.ini');
  writeFileSync(status, readFileSync(status, 'utf8').replace('127.0.0.1:8731', `127.0.0.1:${port}`));
  const emperor = startEmperor(['--emperor', dir.path]);
  try {
    await until(async () => (await get({ socketPath: path.join(dir.path, 'hello.sock') })).status === 200);
    await until(async () => (await get({ host: '127.0.0.1', port })).status === 200);
    await sleep(2000);
    return { rssKiB: rssKiB(emperor.child.pid) };
  } finally {
    await emperor.stop();
    dir.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rssKiB: kib } = await emperorRss();
  console.log(`emperor RSS with the two example vassals (4 workers): ${(kib / 1024).toFixed(1)} MiB`);
}
