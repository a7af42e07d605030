// A small JSON API on a TCP socket inherited from the supervisor (fd 3). It answers with which worker served the
// request, and announces readiness on NOTIFICATION_FD once it accepts connections.
import fs from 'node:fs';
import http from 'node:http';

if (process.env.LISTEN_PID !== String(process.pid) || Number(process.env.LISTEN_FDS) < 1) {
  console.error('status: no listening socket on fd 3 (LISTEN_FDS/LISTEN_PID); run me under supervisor');
  process.exit(1);
}

const startedAt = new Date().toISOString();
let served = 0;
const server = http.createServer((req, res) => {
  served++;
  res.setHeader('content-type', 'application/json');
  res.end(
    JSON.stringify({
      vassal: process.env.SUPERVISOR_VASSAL,
      worker: Number(process.env.SUPERVISOR_WORKER_ID),
      generation: Number(process.env.SUPERVISOR_GENERATION),
      pid: process.pid,
      startedAt,
      served,
      path: req.url,
    }) + '\n',
  );
});

server.listen({ fd: 3 }, () => {
  const notify = Number(process.env.NOTIFICATION_FD);
  if (notify) {
    fs.writeSync(notify, '\n');
    fs.closeSync(notify);
  }
  if (process.env.SUPERVISOR_WORKER_ID === '1') {
    const { address, port } = server.address();
    console.log(`${process.env.SUPERVISOR_VASSAL} is serving; try: curl http://${address}:${port}/`);
  }
});

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
