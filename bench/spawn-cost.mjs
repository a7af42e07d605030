// How long a spawn blocks the spawning Node process: the synchronous part of child_process.spawn/fork (libuv forks,
// then waits until the child has exec'd or failed), for the kinds of children the emperor starts, from this process
// (a Node process of a size like the emperor's). Each child exits at once; 15 spawns of each kind, one at a time.
// Run: node bench/spawn-cost.mjs
import { fork, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { fmt, summary, tempDir } from './lib.mjs';

const ROOT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

export async function spawnCost(rounds = 15) {
  const dir = tempDir('bench-spawn');
  const noop = path.join(dir.path, 'noop.mjs');
  writeFileSync(noop, 'process.exit(0);\n');
  const options = { env: ROOT_ENV, cwd: '/' };
  const kinds = {
    'fork(node) with an IPC channel (the bind helper)': () => fork(noop, [], { ...options, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] }),
    'spawn(setpriv -> sh -> program) with pipes (a worker)': () => spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', '/bin/sh', '-c', 'exec /bin/true'], { ...options, stdio: ['pipe', 'pipe', 'pipe'] }),
    'spawn(getent) (an account lookup)': () => spawn('/usr/bin/getent', ['passwd', 'root'], { ...options, stdio: ['ignore', 'pipe', 'pipe'] }),
  };
  const results = {};
  try {
    for (const [name, start] of Object.entries(kinds)) {
      const blocked = [];
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        const child = start();
        blocked.push(performance.now() - t0);
        await new Promise((resolve) => child.on('close', resolve));
        await sleep(20);
      }
      results[name] = summary(blocked);
    }
  } finally {
    dir.remove();
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, s] of Object.entries(await spawnCost())) console.log(`${name}: the call blocks ${fmt(s)}`);
}
