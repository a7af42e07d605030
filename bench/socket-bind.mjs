// Time from SocketRegistry.lease() to the sockets received, for one unix socket (chmod-socket 660) and for one TCP
// socket, in the default mode and in tyrant mode (the bind helper drops to a tenant first; needs root).
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { fmt, summary } from './lib.mjs';

const dist = (p) => fileURLToPath(new URL(`../dist/${p}`, import.meta.url));
const { SocketRegistry } = await import(dist('socket/socket-registry.js'));
const { resolveCredentials } = await import(dist('runtime/accounts.js'));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** lease() -> sockets in hand, `rounds` times; each round binds afresh and releases (vacuum) after. */
export async function socketBind(kind, rounds = 9, tenantName) {
  const tenant = tenantName ? await resolveCredentials(tenantName, undefined) : undefined;
  const dir = mkdtempSync('/tmp/bench-bind-');
  if (tenant) chownSync(dir, tenant.uid, tenant.gid);
  const registry = new SocketRegistry({ tyrant: tenant !== undefined });
  const timings = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const port = await freePort();
      const specs = [
        kind === 'unix'
          ? { address: { kind: 'unix', path: `${dir}/s${i}.sock` }, name: `${dir}/s${i}.sock`, backlog: 100, mode: 0o660, owner: undefined }
          : { address: { kind: 'tcp', host: '127.0.0.1', port }, name: `127.0.0.1:${port}`, backlog: 100, mode: undefined, owner: undefined },
      ];
      const t0 = performance.now();
      const lease = await registry.lease(specs, tenant);
      timings.push(performance.now() - t0);
      lease.release({ vacuum: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return summary(timings);
}

/** Prints the figures for both kinds, in the default mode and (as root, with the test tenant) in tyrant mode. */
export async function printSocketBind(rounds = 9) {
  for (const kind of ['unix', 'tcp']) {
    console.log(`lease -> ${kind} socket received, default mode: ${fmt(await socketBind(kind, rounds))}`);
    if (process.getuid?.() === 0) console.log(`lease -> ${kind} socket received, tyrant mode (svtest-worker): ${fmt(await socketBind(kind, rounds, 'svtest-worker'))}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await printSocketBind(Number(process.argv[2] ?? 9));
