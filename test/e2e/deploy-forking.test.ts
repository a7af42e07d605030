// systemd/supervisor.service (Type=forking) played through with real processes: the test does what systemd does with
// the shipped unit (runs ExecStart= and waits for it to return, reads PIDFile=, runs ExecReload= with $MAINPID, sends
// KillSignal= to the main process alone, as KillMode=mixed does), on systemd/emperor.ini, with the unit's paths
// (/opt/supervisor, /etc/supervisor, /run/supervisor, /var/log/supervisor) mapped into the test's directory.
import { chmodSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CLI, NODE, vassalIni } from '../support/emperor.js';
import { connects, fdTarget, killDaemonsAfterEach, logEvents, runToExit, sessionOf, tagged, waitForEvents, waitForExit, type CommandResult } from '../support/daemon.js';
import { freePort } from '../support/nginx.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { ask, askTcp, pidsAnswering, serveIni } from '../support/serving.js';
import { execCommand, readUnit, REPO, unitValue, type PathMap } from '../support/systemd-unit.js';
import { isRoot, testAccount } from '../support/test-users.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root, as the unit runs the emperor]';
if (skipReason) console.warn(`Type=forking tests${skipReason}`);

const dir = sandbox('sv-fork');
killDaemonsAfterEach();
const UNIT = readUnit(path.join(REPO, 'systemd/supervisor.service'));

/** The unit's paths in this test: what systemd would find there, and what it creates (RuntimeDirectory=, LogsDirectory=). */
interface Install {
  readonly map: PathMap;
  readonly ini: string;
  readonly vassals: string;
  readonly pidfile: string;
  readonly logFile: string;
  readonly webSocket: string;
  readonly port: number;
}

let inst: Install;

beforeEach(async () => {
  if (!isRoot) return;
  // emperor.ini gives vassals www-data by default: its workers start in their vassal's directory, so it must be reachable.
  chmodSync(dir.path, 0o755);
  const etc = dir.file('etc/supervisor');
  const vassals = path.join(etc, 'vassals');
  for (const d of [etc, vassals, dir.file('run'), dir.file('log')]) mkdirSync(d, { recursive: true, mode: 0o755 });
  const map: PathMap = [
    ['/opt/supervisor/', REPO],
    ['/etc/supervisor/', `${etc}/`],
    ['/run/supervisor/', `${dir.file('run')}/`],
    ['/var/log/supervisor/', `${dir.file('log')}/`],
    ['/usr/bin/node', NODE],
  ];
  // The shipped emperor.ini, its absolute pidfile moved with the rest.
  const shipped = readFileSync(path.join(REPO, 'systemd/emperor.ini'), 'utf8');
  writeFileSync(path.join(etc, 'emperor.ini'), shipped.replaceAll('/run/supervisor/', `${dir.file('run')}/`));
  const port = await freePort();
  writeFileSync(path.join(vassals, 'web.ini'), serveIni('web.sock'));
  writeFileSync(path.join(vassals, 'api.ini'), serveIni(`127.0.0.1:${port}`));
  const logFile = execCommand(UNIT, 'ExecStart', map).at(-1)!;
  inst = { map, ini: path.join(etc, 'emperor.ini'), vassals, pidfile: dir.file('run/emperor.pid'), logFile, webSocket: path.join(vassals, 'web.sock'), port };
});

const execStart = (): Promise<CommandResult> => runToExit(execCommand(UNIT, 'ExecStart', inst.map));
const mainPid = (): number => Number(readFileSync(inst.pidfile, 'utf8').trim());

/** Starts as systemd would, and waits until both vassals' workers are ready. */
async function startAndServe(): Promise<{ started: CommandResult; pid: number }> {
  const started = await execStart();
  expect(started.code, started.stderr).toBe(0);
  await waitForEvents(inst.logFile, 'vassal.ready', 2);
  return { started, pid: mainPid() };
}

describe.skipIf(Boolean(skipReason))(`systemd/supervisor.service, Type=forking${skipReason}`, () => {
  it('the unit and emperor.ini agree: PIDFile= is the pidfile emperor.ini writes, ExecStart= daemonizes into LogsDirectory=', () => {
    const ini = readFileSync(path.join(REPO, 'systemd/emperor.ini'), 'utf8');
    expect(ini).toMatch(new RegExp(`^pidfile = ${unitValue(UNIT, 'Service', 'PIDFile')}$`, 'm'));
    expect(unitValue(UNIT, 'Service', 'PIDFile')).toMatch(new RegExp(`^/run/${unitValue(UNIT, 'Service', 'RuntimeDirectory')}/`));
    const argv = execCommand(UNIT, 'ExecStart', []);
    expect(argv.slice(0, 4)).toEqual(['/usr/bin/node', '--max-semi-space-size=1', '/opt/supervisor/bin/supervisor.js', '/etc/supervisor/emperor.ini']);
    expect(argv.slice(4, 5)).toEqual(['--daemonize']);
    expect(argv[5]).toMatch(new RegExp(`^/var/log/${unitValue(UNIT, 'Service', 'LogsDirectory')}/`));
    expect(unitValue(UNIT, 'Service', 'Type')).toBe('forking');
  });

  it('ExecStart= returns only once the sockets listen; the pidfile names a live session leader, not the parent, its stdin /dev/null and its output on the log file', async () => {
    const started = await execStart();
    // The first thing after the return: both sockets take connections (they queue until a worker accepts).
    await Promise.all([connects({ path: inst.webSocket }), connects({ host: '127.0.0.1', port: inst.port })]);
    expect(started.code, started.stderr).toBe(0);
    const pid = mainPid();
    expect(started.stdout).toBe(`supervisor: emperor ${pid} is up (log: ${inst.logFile})\n`);
    expect(pid).not.toBe(started.pid);
    expect(isAlive(started.pid)).toBe(false);
    expect(isAlive(pid)).toBe(true);
    const { sid, ppid } = sessionOf(pid);
    expect(sid).toBe(pid);
    expect(ppid).not.toBe(started.pid);
    expect([0, 1, 2].map((fd) => fdTarget(pid, fd))).toEqual(['/dev/null', inst.logFile, inst.logFile]);
    expect(statSync(inst.pidfile).mode & 0o777).toBe(0o644);
    expect(statSync(inst.logFile).mode & 0o777).toBe(0o640);
    // The daemon's log is the emperor's log; the workers run as emperor.ini's default account.
    expect(logEvents(inst.logFile, 'emperor.start')).toHaveLength(1);
    const wwwData = testAccount('www-data');
    expect(await vi.waitFor(() => ask(inst.webSocket), { timeout: 30_000, interval: 50 })).toMatchObject({ uid: wwwData.uid, gid: wwwData.gid });
    expect(await askTcp(inst.port)).toMatchObject({ uid: wwwData.uid });
  });

  it('ExecReload= (--reload $MAINPID --wait: returns once the rolls are done), and --reload PIDFILE as the guides type it, roll every worker', async () => {
    const { pid } = await startAndServe();
    const first = await pidsAnswering(inst.webSocket);

    const reload = await runToExit(execCommand(UNIT, 'ExecReload', inst.map, { MAINPID: String(pid) }));
    const answeredAt = Date.now();
    expect(reload).toMatchObject({ code: 0, stderr: '' });
    expect(reload.stdout.trimEnd().split('\n').sort()).toEqual(['api.ini: reloaded: runs generation 2', 'web.ini: reloaded: runs generation 2']);
    for (const r of await waitForEvents(inst.logFile, 'vassal.reloaded', 2)) expect(Date.parse(r.time as string)).toBeLessThanOrEqual(answeredAt);
    const second = await pidsAnswering(inst.webSocket);
    expect([...second].filter((p) => first.has(p))).toEqual([]);

    const byPidfile = await runToExit([NODE, CLI, '--reload', inst.pidfile]);
    expect(byPidfile).toMatchObject({ code: 0, stdout: `sent SIGHUP to emperor ${pid}\n` });
    await waitForEvents(inst.logFile, 'vassal.reloaded', 4);
    const third = await pidsAnswering(inst.webSocket);
    expect([...third].filter((p) => first.has(p) || second.has(p))).toEqual([]);
    expect(logEvents(inst.logFile, 'worker.died')).toEqual([]);
  });

  const stops: [string, (pid: number) => Promise<void>][] = [
    [
      `KillSignal= (${unitValue(UNIT, 'Service', 'KillSignal')}) to the main process (KillMode=${unitValue(UNIT, 'Service', 'KillMode')})`,
      async (pid) => {
        expect(unitValue(UNIT, 'Service', 'KillMode')).toBe('mixed');
        process.kill(pid, unitValue(UNIT, 'Service', 'KillSignal') as NodeJS.Signals);
      },
    ],
    ['SIGTERM', async (pid) => void process.kill(pid, 'SIGTERM')],
    [
      'supervisor --stop PIDFILE, as the guides type it',
      async () => {
        const stop = await runToExit([NODE, CLI, '--stop', inst.pidfile]);
        expect(stop.code, stop.stderr).toBe(0);
      },
    ],
  ];
  it.each(stops)('%s stops everything: workers, sockets (vacuumed), pidfile; exit without SIGKILL', async (_, stop) => {
    const { started, pid } = await startAndServe();
    await stop(pid);
    await waitForExit(pid);
    expect(existsSync(inst.webSocket)).toBe(false);
    expect(existsSync(inst.pidfile)).toBe(false);
    await expect(connects({ host: '127.0.0.1', port: inst.port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await vi.waitFor(() => expect(tagged(started.tag)).toEqual([]), { timeout: 20_000, interval: 50 });
    await waitForEvents(inst.logFile, 'emperor.stopped');
    const exits = logEvents(inst.logFile, 'worker.exit');
    expect(exits.map((r) => [r.code, r.forced])).toEqual(exits.map(() => [0, false]));
    expect(exits).toHaveLength(4);
  });

  /** A start that must fail: non-zero, the reason on stderr, nothing of it left running, no pidfile of its own. */
  async function expectFailedStart(started: CommandResult, reason: RegExp): Promise<void> {
    expect(started.code, started.stdout).not.toBe(0);
    expect(started.stderr).toMatch(reason);
    await vi.waitFor(() => expect(tagged(started.tag)).toEqual([]), { timeout: 20_000, interval: 50 });
  }

  it('a missing vassal directory: ExecStart= fails with the reason, nothing left running', async () => {
    writeFileSync(inst.ini, readFileSync(inst.ini, 'utf8').replace('emperor = vassals', 'emperor = no-such-dir'));
    const started = await execStart();
    await expectFailedStart(started, /^supervisor: emperor directory \S+\/no-such-dir does not exist or is not a directory/m);
    expect(started.code).toBe(1);
    expect(existsSync(inst.pidfile)).toBe(false);
  });

  it('a bad emperor.ini: ExecStart= fails with file:line and the reason, nothing left running', async () => {
    writeFileSync(inst.ini, `${readFileSync(inst.ini, 'utf8')}emperor-freq = often\n`);
    const started = await execStart();
    await expectFailedStart(started, new RegExp(`^supervisor: ${inst.ini}:\\d+: error: invalid value for emperor-freq`, 'm'));
    expect(existsSync(inst.pidfile)).toBe(false);
  });

  it('a pidfile held by a live emperor: the second ExecStart= fails, naming it; the first keeps running and serving', async () => {
    const { pid } = await startAndServe();
    const second = await execStart();
    await expectFailedStart(second, new RegExp(`^supervisor: emperor ${pid} already holds pidfile ${inst.pidfile}$`, 'm'));
    expect(second.code).toBe(1);
    expect(mainPid()).toBe(pid);
    expect(isAlive(pid)).toBe(true);
    await ask(inst.webSocket);
  });

  it('an inherited descriptor that is not a listening socket (LISTEN_FDS for the starting command): ExecStart= fails, naming it', async () => {
    const file = dir.file('not-a-socket');
    writeFileSync(file, '');
    const fd = openSync(file, 'r');
    try {
      // As systemd starts it: LISTEN_PID is the pid of the process it runs (sh execs the command, keeping its pid).
      const started = await runToExit(['/bin/sh', '-c', 'LISTEN_PID=$$ exec "$@"', 'sh', ...execCommand(UNIT, 'ExecStart', inst.map)], {
        env: { LISTEN_FDS: '1', LISTEN_FDNAMES: 'app' },
        fds: [fd],
      });
      await expectFailedStart(started, new RegExp(`^supervisor: inherited descriptor 3 \\(app\\) is not a socket \\(${file}\\)$`, 'm'));
      expect(started.code).toBe(1);
      expect(existsSync(inst.pidfile)).toBe(false);
    } finally {
      closeSync(fd);
    }
  });

  it('one vassal that cannot start (bad config, socket it cannot bind) is not the emperor\'s failure: exit 0, the others serve', async () => {
    writeFileSync(path.join(inst.vassals, 'broken.ini'), vassalIni({ command: '/bin/true', processes: 'many' }));
    writeFileSync(path.join(inst.vassals, 'unbindable.ini'), serveIni(dir.file('no-such-dir/x.sock')));
    const started = await execStart();
    expect(started.code, started.stderr).toBe(0);
    await Promise.all([connects({ path: inst.webSocket }), connects({ host: '127.0.0.1', port: inst.port })]);
    // The daemon's log is written asynchronously: its records may follow the sockets by a moment.
    await vi.waitFor(
      () => {
        expect(logEvents(inst.logFile, 'vassal.config-error').map((r) => r.vassal)).toEqual(['broken.ini']);
        expect([...new Set(logEvents(inst.logFile, 'vassal.start-failed').map((r) => r.vassal))]).toEqual(['unbindable.ini']);
      },
      { timeout: 20_000, interval: 50 },
    );
    await vi.waitFor(() => ask(inst.webSocket), { timeout: 30_000, interval: 50 });
    expect(isAlive(mainPid())).toBe(true);
  });
});
