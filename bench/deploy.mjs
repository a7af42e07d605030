// Deployment figures, on a copy of vassals.example (hello.ini: 2 workers on a unix socket; status.ini: 2 workers on
// TCP), the emperor run as root:
// - daemonize start: `supervisor --emperor DIR --daemonize LOG --pidfile PID` from its start to the parent's exit
//   (what systemd waits for with Type=forking: the pidfile written and every socket listening), and to the first 200
//   from hello.sock (its workers up);
// - connections refused while the emperor restarts under load (stop, then start, 8 clients per socket), with the
//   sockets held by a socket unit (socket-holder.py plays systemd) and without (the emperor binds them itself).
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './nginx.mjs';
import { CLI, fmt, get, ROOT, startEmperor, summary, tempDir, until } from './lib.mjs';
import { restartsUnderLoad, startHolder } from './systemd-socket.mjs';

/** vassals.example in a temp dir, status.ini on a free port. */
async function exampleCopy(prefix) {
  const dir = tempDir(prefix);
  cpSync(path.join(ROOT, 'vassals.example'), dir.path, { recursive: true });
  const port = await freePort();
  const status = path.join(dir.path, 'status.ini');
  writeFileSync(status, readFileSync(status, 'utf8').replace('127.0.0.1:8731', `127.0.0.1:${port}`));
  return { dir, port, socketPath: path.join(dir.path, 'hello.sock') };
}

function run(argv) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => resolve(code));
  });
}

export async function daemonizeStart(rounds = 10) {
  const { dir, socketPath } = await exampleCopy('bench-daemonize');
  const pidfile = path.join(dir.path, 'emperor.pid');
  const log = path.join(dir.path, 'emperor.log');
  const toExit = [];
  const toServe = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const code = await run([CLI, '--emperor', dir.path, '--daemonize', log, '--pidfile', pidfile]);
      if (code !== 0) throw new Error(`daemonize exited with ${code}`);
      toExit.push(performance.now() - t0);
      await until(async () => (await get({ socketPath })).status === 200, 60_000, 5);
      toServe.push(performance.now() - t0);
      if ((await run([CLI, '--stop', pidfile, '--stop-timeout', '60'])) !== 0) throw new Error('--stop failed');
    }
  } finally {
    // Whatever a failed round left running.
    try {
      process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGKILL');
    } catch {
      // no pidfile, or gone
    }
    dir.remove();
  }
  return { toExit: summary(toExit), toServe: summary(toServe) };
}

export function describeDaemonize(r) {
  return [
    `daemonize, vassals.example (4 workers): command start -> parent exit (sockets listening): ${fmt(r.toExit)}`,
    `daemonize, vassals.example: command start -> first 200 from hello.sock: ${fmt(r.toServe)}`,
  ].join('\n');
}

/** One variant: `restarts` emperor restarts under load; with `socketUnit`, the sockets are held by socket-holder.py. */
async function restartVariant(socketUnit, restarts) {
  const { dir, port, socketPath } = await exampleCopy(socketUnit ? 'bench-sockunit' : 'bench-nosockunit');
  const targets = [{ socketPath }, { port }];
  const readyCount = (records) => records.filter((r) => r.event === 'vassal.ready').length;
  let holder;
  try {
    if (socketUnit) {
      const log = path.join(dir.path, 'emperor.log');
      holder = startHolder({ sockets: [{ unix: socketPath }, { tcp: ['127.0.0.1', port] }], names: ['hello', 'status'], argv: [process.execPath, CLI, '--emperor', dir.path, '--logto', log] });
      await holder.listening;
      const records = () =>
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l));
      let pid = await holder.start();
      let started = 1;
      await until(() => readyCount(records()) >= 2 * started, 60_000, 20);
      return await restartsUnderLoad({
        targets,
        restarts,
        stop: async () => {
          process.kill(pid, 'SIGTERM');
          await holder.exitOf(pid);
        },
        start: async () => {
          pid = await holder.start();
          started++;
          await until(() => readyCount(records()) >= 2 * started, 60_000, 20);
        },
      }).finally(() => process.kill(pid, 'SIGTERM'));
    }
    let emperor = startEmperor(['--emperor', dir.path]);
    await until(() => readyCount(emperor.records) >= 2, 60_000, 20);
    return await restartsUnderLoad({
      targets,
      restarts,
      stop: async () => void (await emperor.stop()),
      start: async () => {
        emperor = startEmperor(['--emperor', dir.path]);
        await until(() => readyCount(emperor.records) >= 2, 60_000, 20);
      },
    }).finally(() => emperor.stop());
  } finally {
    await holder?.close();
    dir.remove();
  }
}

export async function restartRefusals(restarts = 5) {
  return { withUnit: await restartVariant(true, restarts), without: await restartVariant(false, restarts) };
}

export function describeRefusals(r, restarts = 5) {
  const line = (name, v) => {
    const [unix, tcp] = v.results;
    const window = (x) => (x.failed ? `, failures over ${x.lastFailureAt - x.firstFailureAt} ms` : '');
    return (
      `emperor restarted ${restarts}x under load, ${name}: hello.sock ${unix.failed} failed of ${unix.ok + unix.failed}${window(unix)}; ` +
      `TCP ${tcp.failed} failed of ${tcp.ok + tcp.failed}${window(tcp)}; restart (stop -> workers ready) ${fmt(summary(v.durations))}`
    );
  };
  const reasons = (v) => [...new Set(v.results.flatMap((x) => x.failures.map((f) => f.split(' ')[1])))].join(', ');
  return [line('sockets from a socket unit', r.withUnit), line('the emperor binding them itself', r.without), `  failures without the socket unit: ${reasons(r.without) || 'none'}`].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(describeDaemonize(await daemonizeStart()));
  console.log(describeRefusals(await restartRefusals()));
}
