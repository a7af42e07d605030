// `supervisor --status` with 100 vassals: how long the answer takes (the request over the control socket alone, and
// the whole CLI run, Node's start included), and the emperor's CPU while --status is polled every second, against
// the same emperor left idle. Each vassal runs one `sleep` worker (idle; no Node start per worker).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { CLI, fmt, startEmperor, summary, tempDir, until } from './lib.mjs';

/** The installed command (package.json "bin"): a shell script that runs CLI, without NODE_EXTRA_CA_CERTS for commands. */
const COMMAND = path.join(path.dirname(CLI), 'supervisor');

/** One status request over the control socket; resolves with the time to the complete answer (ms) and its size. */
function ask(socket) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const conn = net.connect(socket, () => conn.write('{"command":"status"}\n'));
    let bytes = 0;
    conn.on('data', (d) => (bytes += d.length));
    conn.on('close', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, bytes }));
    conn.on('error', reject);
  });
}

/** CPU seconds (user + system) the process has used, from /proc/PID/stat (USER_HZ = 100). */
function cpuSeconds(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export async function statusBench({ vassals = 100, samples = 30, windowS = 60 } = {}) {
  const dir = tempDir('bench-status');
  const socket = `${dir.path}/control.sock`;
  for (let i = 1; i <= vassals; i++) writeFileSync(`${dir.path}/v${String(i).padStart(3, '0')}.ini`, '[uwsgi]\ncommand = sleep 3600\nready-after = 0\n');
  const emperor = startEmperor(['--emperor', dir.path, '--control-socket', socket]);
  try {
    await until(() => emperor.records.filter((r) => r.event === 'vassal.ready').length === vassals, 120_000, 50);
    const processes = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    // The idle baseline first, before anything asked it anything.
    const pid = emperor.child.pid;
    const load = loadavg()[0];
    let before = cpuSeconds(pid);
    await sleep(windowS * 1000);
    const idle = cpuSeconds(pid) - before;
    await ask(socket);
    const socketMs = [];
    let bytes = 0;
    for (let i = 0; i < samples; i++) {
      const r = await ask(socket);
      socketMs.push(r.ms);
      bytes = r.bytes;
    }
    // The CLI and a bare Node, interleaved, so that both see the same machine. Node 20 reads NODE_EXTRA_CA_CERTS (and
    // with it all of its bundled roots) at start, before any script runs (nodejs/node#40524): when the caller has it
    // set, both are measured again without it, which is Node's default.
    // `supervisor --status` (the installed command) is timed too: it finds node on PATH as its shebang would.
    const timed = (env) => {
      const cli = [];
      const command = [];
      const node = [];
      const time = (file, args, into) => {
        const started = process.hrtime.bigint();
        const run = spawnSync(file, args, { encoding: 'utf8', env });
        into.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (run.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
      };
      const pathEnv = { ...env, PATH: `${path.dirname(process.execPath)}:${env.PATH ?? ''}` };
      for (let i = 0; i < samples; i++) {
        time(process.execPath, [CLI, '--status', socket], cli);
        const started = process.hrtime.bigint();
        const run = spawnSync(COMMAND, ['--status', socket], { encoding: 'utf8', env: pathEnv });
        command.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (run.status !== 0) throw new Error(`supervisor --status exited ${run.status}: ${run.stderr}`);
        time(process.execPath, ['-e', '0'], node);
      }
      return { cli: summary(cli), command: summary(command), node: summary(node) };
    };
    const { cli, command, node } = timed(process.env);
    let withoutExtraCerts;
    if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
      const env = { ...process.env };
      delete env.NODE_EXTRA_CA_CERTS;
      withoutExtraCerts = timed(env);
    }

    before = cpuSeconds(pid);
    const deadline = Date.now() + windowS * 1000;
    let polls = 0;
    while (Date.now() < deadline) {
      const tick = Date.now();
      spawnSync(process.execPath, [CLI, '--status', socket], { stdio: 'ignore' });
      polls++;
      await sleep(Math.max(0, 1000 - (Date.now() - tick)));
    }
    const polled = cpuSeconds(pid) - before;
    return { vassals, processes, bytes, socket: summary(socketMs), cli, command, node, withoutExtraCerts, windowS, idle, polled, polls, load, loadAfter: loadavg()[0] };
  } finally {
    await emperor.stop();
    dir.remove();
  }
}

export function describeStatus(r) {
  return [
    `--status with ${r.vassals} vassals (1 idle worker each; ${r.processes} processes on the host, answer ${(r.bytes / 1024).toFixed(0)} KiB):`,
    `  request over the control socket: ${fmt(r.socket)}`,
    `  whole run of the installed command (supervisor --status, table printed): ${fmt(r.command)}`,
    `  node bin/supervisor.js --status: ${fmt(r.cli)}; Node's own start alone: ${fmt(r.node)}`,
    ...(r.withoutExtraCerts
      ? [
          `  NODE_EXTRA_CA_CERTS is set here (Node loads it at start; the installed command drops it for commands). Without it:`,
          `    supervisor --status ${fmt(r.withoutExtraCerts.command)}; node bin/supervisor.js --status ${fmt(r.withoutExtraCerts.cli)}; Node alone ${fmt(r.withoutExtraCerts.node)}`,
        ]
      : []),
    `  emperor CPU over ${r.windowS} s: idle ${(r.idle * 1000).toFixed(0)} ms; with --status every second (${r.polls} polls) ${(r.polled * 1000).toFixed(0)} ms` +
      ` = ${((r.polled / r.windowS) * 100).toFixed(2)} % of one core; ${(((r.polled - r.idle) / r.polls) * 1000).toFixed(1)} ms per status above idle`,
    `  load average (1 min) at start ${r.load.toFixed(2)}, at the end ${r.loadAfter.toFixed(2)}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(describeStatus(await statusBench({ windowS: Number(process.env.WINDOW_S ?? 60) })));
}
