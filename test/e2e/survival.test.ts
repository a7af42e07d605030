import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import net from 'node:net';
import { lockKey, lockName, sourceTargets } from '../../src/runtime/emperor-lock.js';
import { IGNORED_SIGNALS } from '../../src/runtime/signals.js';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { sleeperIni } from '../support/vassal-dir.js';

const dir = sandbox();

/** Inodes of the TCP sockets `pid` listens on (state 0A in /proc/PID/net/tcp and tcp6, held by one of its fds). */
function listeningTcp(pid: number): number[] {
  const listening = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A') listening.add(Number(f[9]));
    }
  }
  const held: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const inode = /^socket:\[(\d+)\]$/.exec(readlinkOr(`/proc/${pid}/fd/${fd}`))?.[1];
    if (inode && listening.has(Number(inode))) held.push(Number(inode));
  }
  return held.sort();
}

/** Whether anything at all listens on 127.0.0.1:9229 (the inspector's port). */
function inspectorPortOpen(pid: number): boolean {
  return readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
    .split('\n')
    .some((l) => l.trim().split(/\s+/)[1] === '0100007F:240D' && l.trim().split(/\s+/)[3] === '0A');
}

function readlinkOr(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}

/** The workers' environment variable `name`, per live worker pid. */
function envOfWorkers(emperor: EmperorProcess, name: string): Map<number, string | undefined> {
  const out = new Map<number, string | undefined>();
  for (const pid of emperor.liveDescendants()) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      out.set(pid, env.find((v) => v.startsWith(`${name}=`))?.slice(name.length + 1));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

describe('signals', () => {
  it('the ignored signals are logged and ignored, SIGUSR1 logs the status, SIGUSR2 reopens logs: no listener appears, supervision goes on', async () => {
    await writeFile(dir.file('app.ini'), sleeperIni({ processes: 1 }));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const before = listeningTcp(emperor.pid);

    const signals = Object.keys(IGNORED_SIGNALS) as NodeJS.Signals[];
    expect(signals).toEqual(expect.arrayContaining(['SIGALRM', 'SIGPWR']));
    for (const signal of [...signals, 'SIGUSR2' as const]) process.kill(emperor.pid, signal);
    await vi.waitFor(() => expect(emperor.events('emperor.signal').map((r) => r.signal).sort()).toEqual([...signals, 'SIGUSR2'].sort()));
    expect(emperor.events('emperor.signal').filter((r) => r.signal !== 'SIGUSR2').every((r) => r.command === 'ignore')).toBe(true);
    expect(emperor.events('emperor.signal').find((r) => r.signal === 'SIGUSR2')?.command).toBe('reopen-logs');
    process.kill(emperor.pid, 'SIGUSR1');
    await emperor.waitForLog((r) => r.event === 'emperor.status');

    // Supervision goes on: a killed worker is replaced.
    const [victim] = emperor.spawnedPids('app.ini');
    process.kill(victim!, 'SIGKILL');
    await vi.waitFor(() => expect(emperor.events('worker.ready', 'app.ini')).toHaveLength(2), { timeout: 20_000 });
    expect(isAlive(emperor.pid)).toBe(true);
    expect(listeningTcp(emperor.pid)).toEqual(before);
    expect(inspectorPortOpen(emperor.pid)).toBe(false);
  });
});

describe('a log that cannot be written', () => {
  it('on a full disk (/dev/full): the emperor says so once on stderr and keeps supervising (crashes, kills, edits)', async () => {
    await writeFile(dir.file('app.ini'), sleeperIni({ processes: 2, env: 'GEN=1' }));
    // A crash loop, so that there is always something to log.
    await writeFile(dir.file('loop.ini'), vassalIni({ command: fixtureCommand('crash'), 'restart-delay': 0.1, 'restart-delay-max': 0.2 }));
    const full = openSync('/dev/full', 'w');
    const emperor = new EmperorProcess(['--emperor', dir.path], { stdout: full });
    closeSync(full);
    const sleepers = (): number[] => [...envOfWorkers(emperor, 'GEN')].filter(([, gen]) => gen !== undefined).map(([pid]) => pid);
    await vi.waitFor(() => expect(sleepers()).toHaveLength(2), { timeout: 20_000 });
    await vi.waitFor(() => expect(emperor.stderr.join('')).toMatch(/cannot write the log \(fd 1\): ENOSPC.*supervision carries on/));

    // A killed worker is replaced.
    const [victim, other] = sleepers();
    process.kill(victim!, 'SIGKILL');
    await vi.waitFor(
      () => {
        expect(sleepers()).toHaveLength(2);
        expect(sleepers()).not.toContain(victim);
        expect(sleepers()).toContain(other);
      },
      { timeout: 20_000 },
    );
    // An edit reloads.
    await writeFile(dir.file('app.ini'), sleeperIni({ processes: 2, env: 'GEN=2' }));
    await vi.waitFor(() => expect([...envOfWorkers(emperor, 'GEN').values()].filter((g) => g !== undefined)).toEqual(['2', '2']), { timeout: 20_000 });

    expect(isAlive(emperor.pid)).toBe(true);
    expect(emperor.stderr.join('').match(/cannot write the log/g)).toHaveLength(1);
  });
});

describe('stderr that cannot be written', () => {
  it('a warning printed at start onto a full disk (stderr on /dev/full) does not stop the emperor', async () => {
    await mkdir(dir.file('vassals'));
    await writeFile(dir.file('vassals/app.ini'), sleeperIni({ processes: 1 }));
    // `processes` belongs in a vassal file: a warning on stderr before the emperor starts.
    await writeFile(dir.file('emperor.ini'), vassalIni({ emperor: dir.file('vassals'), processes: 2 }));
    const full = openSync('/dev/full', 'w');
    const emperor = new EmperorProcess([dir.file('emperor.ini')], { stderr: full });
    closeSync(full);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const [victim] = emperor.spawnedPids('app.ini');
    process.kill(victim!, 'SIGKILL');
    await vi.waitFor(() => expect(emperor.events('worker.ready', 'app.ini')).toHaveLength(2), { timeout: 20_000 });
    expect(isAlive(emperor.pid)).toBe(true);
  });
});

describe('the lock socket', () => {
  it('takes connections that go away at once, or say anything, without an error escaping (any local user can connect)', async () => {
    await writeFile(dir.file('app.ini'), sleeperIni({ processes: 1 }));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const name = lockName(lockKey(readFileSync('/run/supervisor/secret'), sourceTargets(dir.path, dir.path, ['.ini'])[0]!), 0);
    // Connects, says something (or not) and goes away at once, without waiting for an answer.
    const hitAndRun = (say: string): Promise<void> =>
      new Promise((resolve) => {
        const c = net.connect(name, () => {
          if (say) c.write(say);
          c.destroy();
          resolve();
        });
        c.on('error', () => resolve());
      });
    // Stopped, the emperor accepts nothing: the connections wait in the backlog, already closed by their peers when
    // it writes its answer to them (EPIPE).
    process.kill(emperor.pid, 'SIGSTOP');
    try {
      await Promise.all(Array.from({ length: 40 }, (_, i) => hitAndRun(i % 2 ? '' : 'x'.repeat(100_000))));
    } finally {
      process.kill(emperor.pid, 'SIGCONT');
    }
    const [victim] = emperor.spawnedPids('app.ini');
    process.kill(victim!, 'SIGKILL');
    await vi.waitFor(() => expect(emperor.events('worker.ready', 'app.ini')).toHaveLength(2), { timeout: 20_000 });
    expect(emperor.events('emperor.internal-error')).toEqual([]);
    expect(emperor.events('emperor.lock-error')).toEqual([]);
  });
});
