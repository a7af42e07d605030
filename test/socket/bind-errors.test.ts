import { describe, expect, it } from 'vitest';
import { explainStepFailure, type StepFailure } from '../../src/socket/bind-errors.js';

const unix = { kind: 'unix', path: '/srv/app/a.sock' } as const;
const base: StepFailure = { step: 'bind', code: 'EACCES', detail: 'permission denied', target: unix, socket: '/srv/app/a.sock', uid: 1001, tyrant: true };

describe('explainStepFailure', () => {
  it('says who may not create a socket where', () => {
    expect(explainStepFailure(base)).toBe('socket /srv/app/a.sock: uid 1001 may not create a socket in /srv/app (EACCES)');
    expect(explainStepFailure({ ...base, code: 'ENOENT' })).toBe('socket /srv/app/a.sock: directory /srv/app does not exist (ENOENT)');
  });

  it('names tyrant-privileged-ports for a low port in tyrant mode, and root otherwise', () => {
    const tcp = { ...base, target: { kind: 'tcp', host: '127.0.0.1', port: 80 }, socket: '127.0.0.1:80' } as const;
    expect(explainStepFailure(tcp)).toBe(
      'socket 127.0.0.1:80: port 80 is below 1024; in tyrant mode, ports below 1024 need tyrant-privileged-ports on the emperor (EACCES)',
    );
    expect(explainStepFailure({ ...tcp, tyrant: false })).toContain('ports below 1024 need root');
    expect(explainStepFailure({ ...tcp, code: 'EADDRINUSE' })).toBe('socket 127.0.0.1:80: address already in use (EADDRINUSE)');
  });

  it('explains a stale socket the tenant may not remove, and a refused chown', () => {
    expect(explainStepFailure({ ...base, step: 'remove-stale' })).toBe(
      'socket /srv/app/a.sock: a stale socket file (nothing listens on it) is in the way, and uid 1001 may not remove it from /srv/app (EACCES)',
    );
    expect(explainStepFailure({ ...base, step: 'chown', code: 'EPERM', owner: 'bob' })).toBe(
      'socket /srv/app/a.sock: chown-socket = bob: uid 1001 may not give the socket to that owner (EPERM)',
    );
  });

  it("falls back to the system's words for anything else", () => {
    expect(explainStepFailure({ ...base, step: 'listen', code: 'EINVAL', detail: 'invalid argument' })).toBe('socket /srv/app/a.sock: listen failed: invalid argument (EINVAL)');
  });
});
