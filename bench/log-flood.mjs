// A worker printing as fast as it can (`yes` with 100-byte lines) for 10 s, next to another vassal whose worker is
// SIGKILLed every 2 s. Figures per sink: bytes the flood wrote, the emperor's RSS peak (VmHWM) and CPU seconds during
// the flood, and the other vassal's restart latency (SIGKILL -> replacement's program running), against the same
// measured before the flood. Sinks: the emperor's stdout read deliberately slowly (100 kB/s), the same with
// log-overflow = drop, and a logto file (plain, then json) on the local disk.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, EMPEROR_NODE_ARGS, fmt, summary, tempDir, until } from './lib.mjs';

const LINE = 'flood '.padEnd(100, 'x');
const TICKS = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s

const children = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const cmd = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    return '';
  }
};
const workers = (emperor, program) => children(emperor).filter((p) => cmd(p) === program);
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
};
const statusKiB = (pid, field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const wchar = (pid) => Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);

/** The emperor's stdout into a FIFO read at `rate` bytes/s (Infinity: as fast as it comes). */
function fifoReader(file) {
  execFileSync('mkfifo', [file]);
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(file, constants.O_WRONLY);
  const buf = Buffer.alloc(64 * 1024);
  let timer;
  const state = { bytes: 0, eof: false };
  const read = (budget) => {
    while (budget > 0 && !state.eof) {
      let n;
      try {
        n = readSync(fd, buf, 0, Math.min(buf.length, budget), null);
      } catch {
        return;
      }
      if (n === 0) state.eof = true;
      state.bytes += n;
      budget -= n;
    }
  };
  return {
    writeFd,
    state,
    rate(bytesPerSecond) {
      clearInterval(timer);
      timer = setInterval(() => read(bytesPerSecond === Infinity ? Infinity : bytesPerSecond / 20), bytesPerSecond === Infinity ? 5 : 50);
    },
    close() {
      clearInterval(timer);
      closeSync(fd);
    },
  };
}

async function killAndTime(emperor) {
  const [victim] = await until(() => {
    const w = workers(emperor, 'sleep');
    return w.length === 1 ? w : undefined;
  });
  const t0 = performance.now();
  process.kill(victim, 'SIGKILL');
  await until(() => workers(emperor, 'sleep').some((p) => p !== victim), 30_000, 1);
  return performance.now() - t0;
}

async function scenario(name, floodOptions, { slowStdout, seconds = 10 }) {
  const dir = tempDir('bench-flood');
  const reader = fifoReader(path.join(dir.path, 'stdout.fifo'));
  reader.rate(Infinity);
  writeFileSync(path.join(dir.path, 'other.ini'), ['[uwsgi]', 'command = sleep 3600', 'ready-after = 0', 'healthy-after = 0.1', ''].join('\n'));
  const child = spawn(process.execPath, [...EMPEROR_NODE_ARGS, CLI, '--emperor', dir.path], { stdio: ['ignore', reader.writeFd, 'inherit'] });
  closeSync(reader.writeFd);
  const pid = child.pid;
  try {
    await until(() => workers(pid, 'sleep').length === 1);
    await sleep(500);
    const quiet = [];
    for (let i = 0; i < 5; i++) {
      quiet.push(await killAndTime(pid));
      await sleep(300);
    }
    if (slowStdout) reader.rate(100_000);
    const peakBefore = statusKiB(pid, 'VmHWM');
    const cpu0 = cpuSeconds(pid);
    const ini = ['[uwsgi]', `command = /usr/bin/yes ${LINE}`, 'ready-after = 0', ...Object.entries(floodOptions).map(([k, v]) => `${k} = ${v}`.replace('DIR', dir.path)), ''];
    writeFileSync(path.join(dir.path, 'flood.ini'), ini.join('\n'));
    const [yes] = await until(() => {
      const w = workers(pid, '/usr/bin/yes');
      return w.length === 1 ? w : undefined;
    });
    const started = performance.now();
    const flooded = [];
    while (performance.now() - started < seconds * 1000) {
      await sleep(1500);
      flooded.push(await killAndTime(pid));
    }
    const bytes = wchar(yes);
    const elapsed = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const peak = statusKiB(pid, 'VmHWM');
    rmSync(path.join(dir.path, 'flood.ini'));
    reader.rate(Infinity);
    const t0 = performance.now();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    const stopMs = performance.now() - t0;
    return { name, bytes, elapsed, cpu, peakMiB: peak / 1024, peakBeforeMiB: peakBefore / 1024, quiet: summary(quiet), flooded: summary(flooded), stopMs, read: reader.state.bytes };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    reader.close();
    dir.remove();
  }
}

export async function logFlood(seconds = 10) {
  return [
    await scenario('emperor stdout read at 100 kB/s (backpressure)', {}, { slowStdout: true, seconds }),
    await scenario('emperor stdout read at 100 kB/s, log-overflow = drop', { 'log-overflow': 'drop' }, { slowStdout: true, seconds }),
    await scenario('logto file, plain', { logto: 'DIR/flood.log', 'log-maxsize': 100_000_000, 'log-backups': 1 }, { slowStdout: false, seconds }),
    await scenario('logto file, worker-log-format = json', { logto: 'DIR/flood.log', 'worker-log-format': 'json', 'log-maxsize': 100_000_000, 'log-backups': 1 }, { slowStdout: false, seconds }),
  ];
}

export function describeFlood(results) {
  return results
    .map((r) =>
      [
        `flood (${r.name}), ${r.elapsed.toFixed(1)} s:`,
        `  bytes written by the flooding worker: ${(r.bytes / 1e6).toFixed(1)} MB (${(r.bytes / 1e6 / r.elapsed).toFixed(1)} MB/s)`,
        `  emperor: RSS peak ${r.peakMiB.toFixed(1)} MiB (${r.peakBeforeMiB.toFixed(1)} MiB before the flood), CPU ${r.cpu.toFixed(2)} s (${((100 * r.cpu) / r.elapsed).toFixed(0)}% of a core); clean stop ${r.stopMs.toFixed(0)} ms`,
        `  other vassal, SIGKILL -> replacement running: without flood ${fmt(r.quiet)}; during flood ${fmt(r.flooded)}`,
      ].join('\n'),
    )
    .join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(describeFlood(await logFlood(Number(process.argv[2] ?? 10))));
