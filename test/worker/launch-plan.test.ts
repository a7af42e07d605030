import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { ROOT_ENV, SETPRIV, SH } from '../../src/runtime/exec-chain.js';
import { fdName, planLaunch, SETUP_CHUNK_BYTES, SETUP_SCRIPT, SETUP_VAR_PREFIX, setupVariables, shellQuote, type LaunchPlan, type LaunchRequest } from '../../src/worker/launch-plan.js';

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

/**
 * Runs a plan's setup text the way the chain does (sh with the setup variables in its environment, going ahead at
 * end of file on stdin), with `env -0` as the program. ROOT_ENV's PATH is left out, so that what the program sees
 * is what the text exported.
 */
function runSetup(plan: LaunchPlan, argv: string[] = ['/usr/bin/env', '-0']): string {
  const env = Object.fromEntries(Object.entries(plan.env).filter(([k]) => k.startsWith(SETUP_VAR_PREFIX)));
  return execFileSync(SH, ['-c', SETUP_SCRIPT, 'supervisor-worker', ...argv], { input: '', env, encoding: 'utf8' });
}

/** `env -0` output as an object. */
function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

describe('planLaunch', () => {
  it('starts setpriv by absolute path, in /, with the fixed root environment and no variable of the vassal', () => {
    const plan = planLaunch({ ...base, env: { PATH: '/home/mallory/bin', LD_PRELOAD: '/home/mallory/evil.so' } });
    expect(plan.file).toBe(SETPRIV);
    // The vassal's variables reach the root part of the chain only as the text of one variable of a fixed name.
    expect(plan.env).toEqual({ ...ROOT_ENV, [`${SETUP_VAR_PREFIX}0`]: `unset ${SETUP_VAR_PREFIX}0\n${plan.setup}` });
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
    const seen = parseEnv(runSetup(plan));
    // cd sets these two, as in any shell.
    delete seen.PWD;
    delete seen.OLDPWD;
    expect(seen).toEqual(plan.workerEnv);
    expect(seen).toMatchObject(tricky);
  });

  it('carries a large environment in several setup variables, and the program sees none of them', () => {
    const big = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`BIG_${i}`, `${i}'x`.repeat(3_000)]));
    const plan = planLaunch({ ...base, baseEnv: {}, env: big, cwd: '/' });
    const names = Object.keys(plan.env).filter((k) => k.startsWith(SETUP_VAR_PREFIX));
    expect(names.length).toBeGreaterThanOrEqual(2);
    for (const name of names) expect(Buffer.byteLength(plan.env[name] ?? '')).toBeLessThanOrEqual(SETUP_CHUNK_BYTES + 100);
    const seen = parseEnv(runSetup(plan));
    delete seen.PWD;
    delete seen.OLDPWD;
    expect(seen).toEqual(plan.workerEnv);
  });

  it("leaves out variables named like the chain's carriers of the setup text, which would replace its later parts", () => {
    const big = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`BIG_${i}`, 'x'.repeat(6_000)]));
    const plan = planLaunch({ ...base, baseEnv: {}, env: { [`${SETUP_VAR_PREFIX}1`]: 'echo hijacked; exit 3', ...big }, cwd: '/' });
    expect(Object.keys(plan.env).filter((k) => k.startsWith(SETUP_VAR_PREFIX)).length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(plan.workerEnv).filter((k) => k.startsWith(SETUP_VAR_PREFIX))).toEqual([]);
    const seen = parseEnv(runSetup(plan));
    expect(seen.BIG_29).toHaveLength(6_000);
  });

  it('refuses what no environment can carry, naming the variable and never its value', () => {
    expect(() => planLaunch({ ...base, env: { NULLED: 'a\0b' } })).toThrow("the worker's variable NULLED holds a NUL byte");
    // Node's own refusal would quote the setup text, and with it the other variables' values.
    const nulDir = () => planLaunch({ ...base, env: { SECRET: 'hunter2' }, cwd: '/tmp/a\0b' });
    expect(nulDir).toThrow("the worker's directory holds a NUL byte");
    expect(nulDir).not.toThrow(/hunter2/);
    const huge = () => planLaunch({ ...base, env: { HUGE: `secret-${'y'.repeat(SETUP_CHUNK_BYTES)}` } });
    expect(huge).toThrow(/variable HUGE is too long for the exec chain/);
    expect(huge).not.toThrow(/secret/);
    expect(() => setupVariables(['x'.repeat(SETUP_CHUNK_BYTES + 1)])).toThrow(/too long/);
  });

  it('waits in its shell for end of file on stdin before it runs anything of the setup text', async () => {
    const plan = planLaunch({ ...base, baseEnv: {}, env: {}, cwd: '/' });
    const env = Object.fromEntries(Object.entries(plan.env).filter(([k]) => k.startsWith(SETUP_VAR_PREFIX)));
    const child = spawn(SH, ['-c', SETUP_SCRIPT, 'supervisor-worker', '/bin/echo', 'ran'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      // Blocked in read(2) on fd 0 (syscall 0 on x86-64, 63 on arm64), still the shell.
      await vi.waitFor(() => expect(readFileSync(`/proc/${child.pid}/syscall`, 'utf8')).toMatch(/^(0|63) 0x0 /), { timeout: 10_000, interval: 20 });
      expect(readlinkSync(`/proc/${child.pid}/exe`)).toMatch(/sh$/);
      expect(out).toBe('');
      child.stdin.end();
      expect(await exited).toBe(0);
      expect(out).toBe('ran\n');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('runs the program only while the shell is still the child of parentPid: an orphaned chain exits with 125', () => {
    // runSetup's shell is this process's child.
    const ours = planLaunch({ ...base, baseEnv: {}, env: {}, cwd: '/', parentPid: process.pid });
    expect(runSetup(ours, ['/bin/echo', 'ran'])).toBe('ran\n');
    // As if its spawner had died before the parent-death signal was set: its parent is now another process.
    const orphaned = planLaunch({ ...base, baseEnv: {}, env: {}, cwd: '/', parentPid: process.ppid });
    let failure: { status?: number; stdout?: string } = {};
    try {
      runSetup(orphaned, ['/bin/echo', 'ran']);
    } catch (err) {
      failure = err as typeof failure;
    }
    expect({ status: failure.status, stdout: failure.stdout }).toEqual({ status: 125, stdout: '' });
  });

  it('enters the worker directory with the worker rights, and fails clearly when it cannot', () => {
    const plan = planLaunch({ ...base, baseEnv: {}, env: {}, cwd: '/usr/share' });
    expect(runSetup(plan, ['/bin/pwd']).trim()).toBe('/usr/share');
    const missing = planLaunch({ ...base, baseEnv: {}, env: {}, cwd: "/no/such dir's" });
    expect(() => runSetup(missing, ['/bin/pwd'])).toThrow(/can't cd to \/no\/such dir's/);
  });

  it('passes sockets on fd 3, 4, ... with LISTEN_FDS and LISTEN_FDNAMES, and sets LISTEN_PID to the pid after fork', () => {
    const plan = planLaunch({ ...base, sockets: [{ fd: 21, name: '/run/app.sock' }, { fd: 22, name: '127.0.0.1:8000' }] });
    expect(plan.stdio).toEqual(['pipe', 'pipe', 'pipe', 21, 22]);
    expect(plan.workerEnv.LISTEN_FDS).toBe('2');
    expect(plan.workerEnv.LISTEN_FDNAMES).toBe('/run/app.sock:127.0.0.1_8000');
    const shown = runSetup(planLaunch({ ...base, baseEnv: {}, cwd: '/', sockets: [{ fd: 21, name: 'a' }] }), [SH, '-c', 'echo "$LISTEN_PID $$"']);
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
