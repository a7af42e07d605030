// A real nginx for tests and benchmarks: own config, pid, logs and temp paths inside a directory, 127.0.0.1 only.
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The nginx binary, or undefined when this machine has none. */
export const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'].find((p) => existsSync(p));

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Writes dir/nginx.conf: foreground, workers as nobody:nogroup (as a packaged nginx drops privileges; `user` to
 * change it, e.g. 'www-data www-data' as Debian's package runs it), a server on 127.0.0.1:port passing requests to
 * `upstreamSocket` (a unix socket path, or host:port): proxy_pass (HTTP), or with `uwsgi` uwsgi_pass (the uwsgi protocol, as the
 * deployment guides configure it). Returns the paths nginx needs.
 */
export function writeNginxConf(dir, port, upstreamSocket, { workers = 1, uwsgi = false, user = 'nobody nogroup' } = {}) {
  return writeNginxHttpConf(
    dir,
    [
      `upstream app { server ${upstreamSocket.startsWith('/') ? `unix:${upstreamSocket}` : upstreamSocket}; }`,
      uwsgi
        ? `server { listen 127.0.0.1:${port}; location / { include /etc/nginx/uwsgi_params; uwsgi_pass app; } }`
        : `server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; } }`,
    ],
    { workers, user },
  );
}

/**
 * Writes dir/nginx.conf with everything of nginx's own kept inside `dir` (pid, error log, temp paths), foreground,
 * and `http` (lines) in its http block. Returns the paths nginx needs.
 */
export function writeNginxHttpConf(dir, http, { workers = 1, user = 'nobody nogroup' } = {}) {
  const errorLog = path.join(dir, 'nginx-error.log');
  const conf = path.join(dir, 'nginx.conf');
  const temp = (name) => `${name}_temp_path ${path.join(dir, `nginx-${name}`)};`;
  writeFileSync(
    conf,
    [
      'daemon off;',
      `user ${user};`,
      `worker_processes ${workers};`,
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${errorLog} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
      ...http.map((line) => `  ${line}`),
      '}',
      '',
    ].join('\n'),
  );
  return { conf, errorLog };
}
