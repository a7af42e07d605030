import { describe, expect, it } from 'vitest';
import { fdName, planLaunch, type LaunchRequest } from '../../src/worker/launch-plan.js';

const base: LaunchRequest = {
  argv: ['node', 'app.js', '--port', 'x y'],
  cwd: '/srv/app',
  baseEnv: { PATH: '/usr/bin', HOME: '/root', LISTEN_FDS: '7', LISTEN_PID: '1', NOTIFY_SOCKET: '/run/x', KEEP: undefined },
  env: { NODE_ENV: 'production', PATH: '/opt/bin' },
  sockets: [],
  vassal: 'app.ini',
  workerId: 2,
  generation: 5,
};

describe('planLaunch', () => {
  it('runs the program under setpriv with a parent-death SIGKILL, passing its words untouched', () => {
    const plan = planLaunch(base);
    expect(plan.file).toBe('setpriv');
    expect(plan.args).toEqual(['--pdeathsig', 'KILL', '--', 'node', 'app.js', '--port', 'x y']);
    expect(plan.stdio).toEqual(['ignore', 'pipe', 'pipe']);
  });

  it("drops the emperor's own activation variables and applies the vassal's env over the emperor's", () => {
    const { env } = planLaunch(base);
    expect(env).toEqual({
      PATH: '/opt/bin',
      HOME: '/root',
      NODE_ENV: 'production',
      SUPERVISOR_VASSAL: 'app.ini',
      SUPERVISOR_WORKER_ID: '2',
      SUPERVISOR_GENERATION: '5',
    });
  });

  it('passes sockets on fd 3, 4, ... with LISTEN_FDS and LISTEN_FDNAMES, and sets LISTEN_PID to the pid after fork', () => {
    const plan = planLaunch({ ...base, sockets: [{ fd: 21, name: '/run/app.sock' }, { fd: 22, name: '127.0.0.1:8000' }] });
    expect(plan.stdio).toEqual(['ignore', 'pipe', 'pipe', 21, 22]);
    expect(plan.env.LISTEN_FDS).toBe('2');
    expect(plan.env.LISTEN_FDNAMES).toBe('/run/app.sock:127.0.0.1_8000');
    expect(plan.args.slice(0, 7)).toEqual(['--pdeathsig', 'KILL', '--', '/bin/sh', '-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', 'supervisor-worker']);
    expect(plan.args.slice(7)).toEqual(base.argv);
  });

  it('puts the notification fd where asked, leaving gaps closed, and names it in NOTIFICATION_FD', () => {
    const plan = planLaunch({ ...base, sockets: [{ fd: 9, name: 'a' }], notificationFd: 6 });
    expect(plan.stdio).toEqual(['ignore', 'pipe', 'pipe', 9, 'ignore', 'ignore', 'pipe']);
    expect(plan.env.NOTIFICATION_FD).toBe('6');
  });

  it('refuses a notification fd that collides with a socket', () => {
    expect(() => planLaunch({ ...base, sockets: [{ fd: 9, name: 'a' }], notificationFd: 3 })).toThrow('notification fd 3 collides');
  });

  it('makes fd names systemd accepts: no colon, at most 255 characters', () => {
    expect(fdName('[::1]:80')).toBe('[__1]_80');
    expect(fdName('x'.repeat(300))).toHaveLength(255);
  });
});
