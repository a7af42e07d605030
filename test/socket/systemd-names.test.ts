// `socket = systemd:NAME`: a vassal takes a socket systemd passed the emperor by its FileDescriptorName=. The names
// are parsed in the config (pure); the registry resolves them against what it adopted (here a real unix socket,
// bound for the test as systemd would have, and adopted as the emperor adopts LISTEN_FDS).
import { afterEach, describe, expect, it } from 'vitest';
import { formatSocketAddress, parseVassalSocketAddress } from '../../src/config/socket-address.js';
import type { SocketSpec } from '../../src/config/vassal-config.js';
import { SocketRegistry } from '../../src/socket/socket-registry.js';
import { sandbox } from '../support/sandbox.js';

// The bind helper is started from the compiled tree (npm test builds it first), as the emperor starts it.
const { bindSockets } = (await import('../../dist/socket/bind.js' as string)) as typeof import('../../src/socket/bind.js');

const dir = sandbox('sv-sdname');

describe('systemd:NAME in a vassal socket value', () => {
  it('names a socket by FileDescriptorName=; a name of digits only stays uWSGI\'s host:port; systemd\'s rules for names hold', () => {
    expect(parseVassalSocketAddress('systemd:web', '/srv')).toEqual({ kind: 'systemd', name: 'web' });
    expect(formatSocketAddress({ kind: 'systemd', name: 'web' })).toBe('systemd:web');
    expect(parseVassalSocketAddress('systemd:supervisor.socket', '/srv')).toEqual({ kind: 'systemd', name: 'supervisor.socket' });
    expect(parseVassalSocketAddress('systemd:8080', '/srv')).toEqual({ kind: 'tcp', host: 'systemd', port: 8080 });
    expect(parseVassalSocketAddress('systemd:run/app.sock', '/srv')).toEqual({ kind: 'unix', path: '/srv/systemd:run/app.sock' });
    expect(parseVassalSocketAddress('systemd:', '/srv')).toEqual({ reason: expect.stringContaining('needs the FileDescriptorName=') });
    expect(parseVassalSocketAddress('systemd:a:b', '/srv')).toEqual({ reason: expect.stringContaining("no ':'") });
    expect(parseVassalSocketAddress(`systemd:${'x'.repeat(256)}`, '/srv')).toEqual({ reason: expect.stringContaining('at most 255') });
    expect(parseVassalSocketAddress('systemd:tab\there', '/srv')).toEqual({ reason: expect.stringContaining('printable ASCII') });
    // Everything else is read as before.
    expect(parseVassalSocketAddress('app.sock', '/srv')).toEqual({ kind: 'unix', path: '/srv/app.sock' });
    expect(parseVassalSocketAddress(':3031', '/srv')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 3031 });
  });
});

describe('SocketRegistry: systemd:NAME leases the adopted socket of that name', () => {
  const registries: SocketRegistry[] = [];
  afterEach(() => {
    for (const r of registries.splice(0)) r.closeInherited();
  });

  /** A registry that adopted `names` (FileDescriptorName= of each), each a real listening unix socket. */
  async function adopting(options: ConstructorParameters<typeof SocketRegistry>[0], names: string[]): Promise<{ registry: SocketRegistry; paths: string[] }> {
    const specs = names.map((_, i): SocketSpec => {
      const path = dir.file(`held-${i}.sock`);
      return { address: { kind: 'unix', path }, name: path, backlog: 16, mode: undefined, owner: undefined };
    });
    const outcomes = await bindSockets(specs);
    const registry = new SocketRegistry(options);
    registries.push(registry);
    registry.adopt(outcomes.map((o, i) => {
      if (!o.ok) throw o.error;
      return { address: specs[i]!.address as { kind: 'unix'; path: string }, name: specs[i]!.name, fdName: names[i]!, handle: o.socket.handle };
    }));
    return { registry, paths: specs.map((s) => s.name) };
  }

  const asking = (name: string): SocketSpec => ({ address: { kind: 'systemd', name }, name: `systemd:${name}`, backlog: 128, mode: 0o660, owner: undefined });

  it('hands over the very socket, without a bind, and counts it as systemd\'s', async () => {
    const { registry, paths } = await adopting({}, ['web', 'api']);
    const lease = await registry.lease([asking('api'), asking('web')]);
    expect(lease.sockets.map((s) => s.spec.name)).toEqual([paths[1], paths[0]]);
    expect(registry.isInherited(asking('web'))).toBe(true);
    lease.release({ vacuum: true });
    // Released, it stays open and in place: systemd's.
    expect(registry.names()).toEqual([]);
    const again = await registry.lease([asking('web')]);
    expect(again.sockets[0]?.spec.name).toBe(paths[0]);
    again.release({ vacuum: true });
  });

  it('a name systemd did not pass, or passed twice, is refused with what it has', async () => {
    const { registry, paths } = await adopting({}, ['web', 'supervisor.socket', 'supervisor.socket']);
    await expect(registry.lease([asking('nope')])).rejects.toThrow(
      `socket systemd:nope: systemd passed the emperor no socket named nope; it has web (${paths[0]}), supervisor.socket (${paths[1]}, ${paths[2]})`,
    );
    await expect(registry.lease([asking('supervisor.socket')])).rejects.toThrow(
      `socket systemd:supervisor.socket: systemd passed 2 sockets named supervisor.socket (${paths[1]}, ${paths[2]}): give each its own FileDescriptorName= in the .socket unit, or name the socket by its address`,
    );
    const none = new SocketRegistry();
    await expect(none.lease([asking('web')])).rejects.toThrow('it was started without sockets from systemd (no LISTEN_FDS for it)');
  });

  it('in tyrant mode no tenant gets one: systemd gave it to the emperor', async () => {
    const { registry, paths } = await adopting({ tyrant: true }, ['web']);
    const tenant = { uid: 1234, gid: 1234, initGroups: false };
    // By name: refused before the name is looked up (the refusal says nothing of what systemd passed).
    await expect(registry.lease([asking('web')], tenant)).rejects.toThrow('socket systemd:web: in tyrant mode the sockets systemd passes belong to the emperor, and no tenant\'s vassal gets one');
    await expect(registry.lease([asking('nope')], tenant)).rejects.toThrow(/^socket systemd:nope: in tyrant mode/);
    // By address: the same socket, the emperor's.
    const byAddress: SocketSpec = { address: { kind: 'unix', path: paths[0]! }, name: paths[0]!, backlog: 16, mode: undefined, owner: undefined };
    await expect(registry.lease([byAddress], tenant)).rejects.toThrow(`socket ${paths[0]} belongs to the emperor; this vassal runs as uid 1234 gid 1234`);
  });
});
