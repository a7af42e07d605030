// A worker written the way the supervisor expects: it serves on the listening socket it inherits (fd 3, systemd's
// LISTEN_FDS convention), says when it is ready (a newline on NOTIFICATION_FD, s6's protocol), and on SIGTERM stops
// accepting, finishes the requests in flight, and exits.
import fs from 'node:fs';
import http from 'node:http';

const SD_LISTEN_FDS_START = 3;
if (process.env.LISTEN_PID !== String(process.pid) || Number(process.env.LISTEN_FDS) < 1) {
  console.error('hello: no listening socket on fd 3 (LISTEN_FDS/LISTEN_PID); run me under supervisor');
  process.exit(1);
}

const worker = process.env.SUPERVISOR_WORKER_ID;
const accessLog = process.env.ACCESS_LOG === '1';
const server = http.createServer((req, res) => {
  if (accessLog) console.log(`${req.method} ${req.url}`);
  // ?delay=MS answers late (at most 10 s): a request to watch a graceful stop finish.
  const delay = Math.min(10_000, Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay')) || 0);
  setTimeout(() => {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`Hello from ${process.env.SUPERVISOR_VASSAL}, worker ${worker}, pid ${process.pid}\n`);
  }, delay);
});

server.listen({ fd: SD_LISTEN_FDS_START }, () => {
  const notify = Number(process.env.NOTIFICATION_FD);
  if (notify) {
    fs.writeSync(notify, '\n');
    fs.closeSync(notify);
  }
  if (worker === '1') {
    const name = (process.env.LISTEN_FDNAMES ?? '').split(':')[0];
    const hint = name.startsWith('/') ? `curl --unix-socket ${name} http://localhost/` : `curl http://${name.replace(/_(\d+)$/, ':$1')}/`;
    console.log(`${process.env.SUPERVISOR_VASSAL} is serving; try: ${hint}`);
  }
});

process.once('SIGTERM', () => {
  // close() stops accepting and lets requests in flight finish; idle keep-alive connections are closed now.
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
});
