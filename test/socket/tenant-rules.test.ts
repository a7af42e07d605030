import { describe, expect, it } from 'vitest';
import { addressRefusal, chownRefusal, EMPEROR_OWNER, leaseRefusal, sameOwner } from '../../src/socket/tenant-rules.js';

const alice = { kind: 'tenant', uid: 1001, gid: 1001 } as const;
const bob = { kind: 'tenant', uid: 1002, gid: 1002 } as const;

describe('leaseRefusal', () => {
  it('lets an owner lease what it holds, in either mode', () => {
    expect(leaseRefusal('127.0.0.1:8000', alice, { ...alice })).toBeUndefined();
    expect(leaseRefusal('/run/app.sock', EMPEROR_OWNER, EMPEROR_OWNER)).toBeUndefined();
  });

  it("refuses another tenant's socket, naming the address and the holder", () => {
    expect(leaseRefusal('127.0.0.1:8000', alice, bob)).toBe(
      "socket 127.0.0.1:8000 belongs to another tenant's vassal (uid 1001 gid 1001); this vassal runs as uid 1002 gid 1002, and a socket is only shared between vassals of the same owner",
    );
  });

  it('tells a vassal of the same user with another group why it is refused', () => {
    expect(leaseRefusal('/srv/a.sock', alice, { ...alice, gid: 50 })).toContain('belongs to a vassal of the same user with another group (uid 1001 gid 1001)');
  });

  it("keeps the emperor's sockets and the tenants' apart", () => {
    expect(sameOwner(EMPEROR_OWNER, alice)).toBe(false);
    expect(leaseRefusal('x', EMPEROR_OWNER, alice)).toContain('socket x belongs to the emperor; this vassal runs as uid 1001 gid 1001');
    expect(leaseRefusal('x', alice, EMPEROR_OWNER)).toContain("belongs to another tenant's vassal (uid 1001 gid 1001); this vassal runs as the emperor");
  });
});

describe('addressRefusal', () => {
  const tcp = (port: number) => ({ kind: 'tcp', host: '127.0.0.1', port }) as const;

  it('refuses TCP ports below 1024 unless the emperor allows them, naming the option', () => {
    expect(addressRefusal('127.0.0.1:80', tcp(80), false)).toBe(
      'socket 127.0.0.1:80: port 80 is below 1024; in tyrant mode, ports below 1024 need tyrant-privileged-ports on the emperor',
    );
    expect(addressRefusal('127.0.0.1:1023', tcp(1023), false)).toContain('port 1023 is below 1024');
    expect(addressRefusal('127.0.0.1:80', tcp(80), true)).toBeUndefined();
    expect(addressRefusal('127.0.0.1:1024', tcp(1024), false)).toBeUndefined();
  });

  it('leaves unix paths to the kernel (the helper binds them as the tenant)', () => {
    expect(addressRefusal('/etc/x.sock', { kind: 'unix', path: '/etc/x.sock' }, false)).toBeUndefined();
  });
});

describe('chownRefusal', () => {
  const tenant = { uid: 1001, gid: 1001, groups: [1001, 33] };

  it('allows the owner itself and its primary and supplementary groups', () => {
    expect(chownRefusal('s', { uid: 1001, text: 'alice' }, tenant)).toBeUndefined();
    expect(chownRefusal('s', { uid: 1001, gid: 33, text: 'alice:www-data' }, tenant)).toBeUndefined();
    expect(chownRefusal('s', { gid: 1001, text: ':alice' }, { ...tenant, groups: [] })).toBeUndefined();
  });

  it('refuses another user, naming chown-socket and the owner', () => {
    expect(chownRefusal('/srv/a.sock', { uid: 0, gid: 33, text: 'root:www-data' }, tenant)).toBe(
      "socket /srv/a.sock: chown-socket = root:www-data: uid 0 is not the vassal's owner (uid 1001); in tyrant mode a socket can only belong to its owner",
    );
  });

  it('refuses a group the owner is not in, listing its groups', () => {
    expect(chownRefusal('/srv/a.sock', { gid: 0, text: ':root' }, tenant)).toBe(
      "socket /srv/a.sock: chown-socket = :root: gid 0 is not a group of uid 1001 (its groups: 1001, 33); in tyrant mode a socket can only be given to the owner's groups",
    );
  });
});
