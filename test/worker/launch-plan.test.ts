import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT_ENV, SETPRIV, SH } from '../../src/runtime/exec-chain.js';
import { fdName, planLaunch, SETUP_SCRIPT, shellQuote, type LaunchRequest } from '../../src/worker/launch-plan.js';

const base: LaunchRequest = {
  argv: ['node', 'app.js', '--port', 'x y'],
  cwd: '/srv/app',
  baseEnv: { PATH: '/usr/bin', HOME: '/root', LISTEN_FDS: '7', LISTEN_PID: '1', NOTIFY_SOCKET: '/run/x', KEEP: undefined, 'not-a-name': 'x' },
  env: { NODE_ENV: 'production', PATH: '/opt/bin' },
  sockets: [],
  vassal: 'app.ini',
  workerId: 2,
  generation: 5,
};

/** Runs a plan's setup text the way the chain does (sh reading it on stdin), with `env -0` as the program. */
function runSetup(setup: string, argv: string[] = ['/usr/bin/env', '-0']): string {
  return execFileSync(SH, ['-c', SETUP_SCRIPT, 'supervisor-worker', ...argv], { input: setup, env: {}, encoding: 'utf8' });
}

describe('planLaunch', () => {
  it('starts setpriv by absolute path, in /, with the fixed root environment and nothing of the vassal', () => {
    const plan = planLaunch({ ...base, env: { PATH: '/home/mallory/bin', LD_PRELOAD: '/home/mallory/evil.so' } });
    expect(plan.file).toBe(SETPRIV);
    expect(plan.env).toEqual(ROOT_ENV);
    expect(plan.cwd).toBe('/');
    expect(plan.args).toEqual(['--pdeathsig', 'KILL', '--', SH, '-c', SETUP_SCRIPT, 'supervisor-worker', 'node', 'app.js', '--port', 'x y']);
    expect(plan.args.join(' ')).not.toContain('mallory');
    expect(plan.stdio).toEqual(['pipe', 'pipe', 'pipe']);
  });

  it('drops privileges before the shell: setpriv --reuid/--regid/--init-groups come first', () => {
    const plan = planLaunch({ ...base, credentials: { uid: 1000, gid: 1001, initGroups: true, user: { name: 'alice', home: '/home/alice', shell: '/bin/bash' } } });
    expect(plan.args.slice(0, 8)).toEqual(['--reuid', '1000', '--regid', '1001', '--init-groups', '--pdeathsig', 'KILL', '--']);
    expect(plan.workerEnv).toMatchObject({ USER: 'alice', LOGNAME: 'alice', HOME: '/home/alice', SHELL: '/bin/bash' });
  });

  it("drops the emperor's own activation variables and applies the vassal's env over the base", () => {
    expect(planLaunch(base).workerEnv).toEqual({
      PATH: '/opt/bin',
      HOME: '/root',
      NODE_ENV: 'production',
      SUPERVISOR_VASSAL: 'app.ini',
      SUPERVISOR_WORKER_ID: '2',
      SUPERVISOR_GENERATION: '5',
    });
  });

  it('applies the fixed variables after the vassal env, so a vassal cannot set or remove them', () => {
    const plan = planLaunch({ ...base, env: { SUPERVISOR_EMPEROR: 'fake' }, fixedEnv: { SUPERVISOR_EMPEROR: 'run-1' } });
    expect(plan.workerEnv.SUPERVISOR_EMPEROR).toBe('run-1');
  });

  it('the setup text exports exactly the worker environment, whatever the values hold, then execs the program in its directory', () => {
    const tricky = { A: "it's", B: 'two\nlines', C: '$(touch /tmp/x) `id` \\ "q"', D: '', E: '*' };
    const plan = planLaunch({ ...base, baseEnv: {}, env: tricky, cwd: '/' });
    const seen = Object.fromEntries(
      runSetup(plan.setup)
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    // cd sets these two, as in any shell.
    delete seen.PWD;
    delete seen.OLDPWD;
    expect(seen).toEqual(plan.workerEnv);
    expect(seen).toMatchObject(tricky);
  });

  it('runs the program only while the shell is still the child of parentPid: an orphaned chain exits with 125', () => {
    // runSetup's shell is this process's child.
    const ours = planLaunch({ ...base, baseEnv: {}, env: {}, cwd: '/', parentPid: process.pid });
    expect(runSetup(ours.setup, ['/bin/echo', 'ran'])).toBe('ran\n');
    // As if its spawner had died before the parent-death signal was set: its parent is now another process.
    const orphaned = planLaunch({ ...base, baseEnv: {}, env: {}, cwd: '/', parentPid: process.ppid });
    let failure: { status?: number; stdout?: string } = {};
    try {
      runSetup(orphaned.setup, ['/bin/echo', 'ran']);
    } catch (err) {
      failure = err as typeof failure;
    }
    expect({ status: failure.status, stdout: failure.stdout }).toEqual({ status: 125, stdout: '' });
  });

  it('enters the worker directory with the worker rights, and fails clearly when it cannot', () => {
    const plan = planLaunch({ ...base, baseEnv: {}, env: {}, cwd: '/usr/share' });
    expect(runSetup(plan.setup, ['/bin/pwd']).trim()).toBe('/usr/share');
    const missing = planLaunch({ ...base, baseEnv: {}, env: {}, cwd: "/no/such dir's" });
    expect(() => runSetup(missing.setup, ['/bin/pwd'])).toThrow(/can't cd to \/no\/such dir's/);
  });

  it('passes sockets on fd 3, 4, ... with LISTEN_FDS and LISTEN_FDNAMES, and sets LISTEN_PID to the pid after fork', () => {
    const plan = planLaunch({ ...base, sockets: [{ fd: 21, name: '/run/app.sock' }, { fd: 22, name: '127.0.0.1:8000' }] });
    expect(plan.stdio).toEqual(['pipe', 'pipe', 'pipe', 21, 22]);
    expect(plan.workerEnv.LISTEN_FDS).toBe('2');
    expect(plan.workerEnv.LISTEN_FDNAMES).toBe('/run/app.sock:127.0.0.1_8000');
    const shown = runSetup(planLaunch({ ...base, baseEnv: {}, cwd: '/', sockets: [{ fd: 21, name: 'a' }] }).setup, [SH, '-c', 'echo "$LISTEN_PID $$"']);
    const [listenPid, pid] = shown.trim().split(' ');
    expect(listenPid).toBe(pid);
  });

  it('passes the sockets without LISTEN_* when socket activation is off (uWSGI is told --socket fd://3 instead)', () => {
    const plan = planLaunch({ ...base, sockets: [{ fd: 21, name: '/run/app.sock' }], socketActivation: false });
    expect(plan.stdio).toEqual(['pipe', 'pipe', 'pipe', 21]);
    expect(Object.keys(plan.workerEnv).filter((k) => k.startsWith('LISTEN_'))).toEqual([]);
    expect(plan.setup).not.toContain('LISTEN_PID');
  });

  it('puts the notification fd where asked, leaving gaps closed, and names it in NOTIFICATION_FD', () => {
    const plan = planLaunch({ ...base, sockets: [{ fd: 9, name: 'a' }], notificationFd: 6 });
    expect(plan.stdio).toEqual(['pipe', 'pipe', 'pipe', 9, 'ignore', 'ignore', 'pipe']);
    expect(plan.workerEnv.NOTIFICATION_FD).toBe('6');
  });

  it('refuses a notification fd that collides with a socket', () => {
    expect(() => planLaunch({ ...base, sockets: [{ fd: 9, name: 'a' }], notificationFd: 3 })).toThrow('notification fd 3 collides');
  });

  it('makes fd names systemd accepts: no colon, at most 255 characters', () => {
    expect(fdName('[::1]:80')).toBe('[__1]_80');
    expect(fdName('x'.repeat(300))).toHaveLength(255);
  });

  it('quotes words so that the shell expands nothing in them', () => {
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(execFileSync(SH, ['-c', `printf %s ${shellQuote("$HOME 'x' \\n")}`], { encoding: 'utf8' })).toBe("$HOME 'x' \\n");
  });
});
