import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { vi } from 'vitest';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];

/** The nginx binary, or undefined when this machine has none. */
export const NGINX = CANDIDATES.find((p) => existsSync(p));

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real nginx in the foreground, with its own config, pid, logs and temp paths inside `dir`, listening on
 * 127.0.0.1 only. `locations` is the body of the server block.
 */
export async function startNginx(dir: string, port: number, http: string): Promise<{ stop: () => Promise<void>; errorLog: string }> {
  if (!NGINX) throw new Error('nginx is not installed');
  const errorLog = path.join(dir, 'nginx-error.log');
  const conf = path.join(dir, 'nginx.conf');
  const temp = (name: string): string => `${name}_temp_path ${path.join(dir, `nginx-${name}`)};`;
  await writeFile(
    conf,
    [
      'daemon off;',
      // Workers as nobody:nogroup, as a packaged nginx drops to an unprivileged user: the socket's mode must let them in.
      'user nobody nogroup;',
      'worker_processes 1;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${errorLog} warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
      http.replace(/\$PORT/g, String(port)),
      '}',
      '',
    ].join('\n'),
  );
  const child: ResultPromise = execa(NGINX, ['-c', conf, '-p', dir], { reject: false, stdio: 'ignore' });
  await vi.waitFor(
    () =>
      new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve();
        });
        s.on('error', reject);
      }),
    { timeout: 10_000, interval: 50 },
  );
  return {
    errorLog,
    stop: async () => {
      child.kill('SIGQUIT');
      await child;
    },
  };
}
