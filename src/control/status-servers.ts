import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SocketAddress } from '../config/socket-address.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './prometheus.js';
import { takeSnapshot, type SnapshotSource } from './take-snapshot.js';
import { listenUnix, removeStaleSocket } from './unix-listen.js';
import { uwsgiEmperorStats } from './uwsgi-stats.js';
import { unsafeControlDir } from './control-path.js';

/**
 * The read-only status servers: metrics-http (Prometheus' /metrics and the JSON snapshot over HTTP) and
 * emperor-stats (uWSGI's emperor stats JSON, written on connect). Neither reads a command: whatever a client sends
 * is ignored, so nothing can be done to the emperor over TCP. Each sample is taken when a client asks.
 */

/** A server that can be closed; close() is idempotent. */
export interface Closer {
  /** Where it listens, for logs and tests (host:port with the port actually bound, or the unix path). */
  readonly address: string;
  close(): Promise<void>;
}

const MAX_CONNECTIONS = 32;

/** Whether a host is this machine only (127.0.0.0/8, ::1, localhost): anything else is logged as a warning. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}

/**
 * metrics-http: `GET /metrics` (Prometheus text), `GET /status` (the JSON snapshot), `GET /` (which is which);
 * HEAD as GET without the body; anything else 405 or 404. Rejects when it cannot listen (the port is taken).
 */
export async function openMetricsHttp(address: { readonly host: string; readonly port: number }, source: SnapshotSource, log: Logger): Promise<Closer> {
  // Loaded only when asked for: Node's HTTP stack adds about 1.4 MiB and 6 ms to an emperor that serves no metrics.
  const { default: http } = await import('node:http');
  const server = http.createServer((req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('read-only: GET /metrics or /status\n');
      return;
    }
    const url = (req.url ?? '/').split('?')[0];
    const send = (type: string, body: string): void => {
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url === '/') {
      send('text/plain; charset=utf-8', 'supervisor emperor: /metrics (Prometheus text format), /status (JSON snapshot)\n');
      return;
    }
    if (url !== '/metrics' && url !== '/status') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: GET /metrics or /status\n');
      return;
    }
    takeSnapshot(source).then(
      (snapshot) => (url === '/metrics' ? send(METRICS_CONTENT_TYPE, renderMetrics(snapshot)) : send('application/json', `${JSON.stringify(snapshot)}\n`)),
      (err: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`);
      },
    );
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ event: 'control.error', err: err.message }, `metrics-http: ${err.message}`));
  const bound = server.address() as net.AddressInfo;
  const where = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  warnIfOpen('metrics-http', address.host, where, log);
  log.info({ event: 'control.metrics-http', address: where }, `metrics-http: http://${where}/metrics and /status (read-only)`);
  return closer(where, server, () => server.closeAllConnections());
}

/**
 * emperor-stats: on each connection, uWSGI's emperor stats JSON is written and the connection closed. A unix path
 * is created with mode 0600 in a directory only root or the emperor's user may write. Rejects when it cannot listen.
 */
export async function openEmperorStats(address: SocketAddress, source: SnapshotSource, log: Logger): Promise<Closer> {
  const connections = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => {});
    // Whatever the client sends is read and dropped.
    conn.resume();
    takeSnapshot(source).then(
      (snapshot) => {
        const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, cwd: process.cwd() };
        conn.end(JSON.stringify(uwsgiEmperorStats(snapshot, owner), null, '\t'));
      },
      () => conn.destroy(),
    );
  });
  server.maxConnections = MAX_CONNECTIONS;
  let where: string;
  if (address.kind === 'unix') {
    const unsafe = unsafeControlDir(path.dirname(address.path));
    if (unsafe) throw new Error(`emperor-stats ${address.path}: unsafe directory: ${unsafe}`);
    try {
      await removeStaleSocket(address.path);
      await listenUnix(server, address.path, 0o600);
    } catch (err) {
      throw new Error(`emperor-stats ${address.path}: ${(err as Error).message}`);
    }
    where = address.path;
  } else {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as net.AddressInfo;
    where = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
    warnIfOpen('emperor-stats', address.host, where, log);
  }
  server.on('error', (err) => log.error({ event: 'control.error', err: err.message }, `emperor-stats: ${err.message}`));
  log.info({ event: 'control.emperor-stats', address: where }, `emperor-stats on ${where} (read-only)`);
  return closer(where, server, () => {
    for (const conn of connections) conn.destroy();
  });
}

function warnIfOpen(option: string, host: string, where: string, log: Logger): void {
  if (isLoopback(host)) return;
  log.warn(
    { event: 'control.open-to-network', option, address: where },
    `${option} listens on ${where}, not loopback: anyone who can reach it reads every vassal's status (pids, memory, errors). Read-only: no command is accepted over TCP`,
  );
}

function closer(where: string, server: net.Server, dropConnections: () => void): Closer {
  let closing: Promise<void> | undefined;
  return {
    address: where,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropConnections();
      });
      return closing;
    },
  };
}
