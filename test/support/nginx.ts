import { copyFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { vi } from 'vitest';
import { NGINX, writeNginxConf, writeNginxHttpConf } from '../../bench/nginx.mjs';

export { freePort, NGINX } from '../../bench/nginx.mjs';

/**
 * A real nginx in the foreground (config from bench/nginx.mjs) passing 127.0.0.1:port to `upstreamSocket`: HTTP, or
 * the uwsgi protocol with `uwsgi`; its workers run as `user` (default nobody nogroup).
 */
export async function startNginx(
  dir: string,
  port: number,
  upstreamSocket: string,
  options: { uwsgi?: boolean; user?: string } = {},
): Promise<{ stop: () => Promise<void>; errorLog: string }> {
  if (!NGINX) throw new Error('nginx is not installed');
  const { conf, errorLog } = writeNginxConf(dir, port, upstreamSocket, options);
  return runNginx(conf, dir, port, errorLog);
}

/**
 * A real nginx in the foreground serving `site` (a server block file, as in sites-enabled/, which must listen on
 * 127.0.0.1:port) in an http block of its own; its workers run as `user` (default nobody nogroup). Debian's
 * uwsgi_params is put next to the config, where a site's `include uwsgi_params;` finds it.
 */
export async function startNginxSite(dir: string, port: number, site: string, options: { user?: string } = {}): Promise<{ stop: () => Promise<void>; errorLog: string }> {
  if (!NGINX) throw new Error('nginx is not installed');
  copyFileSync('/etc/nginx/uwsgi_params', path.join(dir, 'uwsgi_params'));
  const { conf, errorLog } = writeNginxHttpConf(dir, [`include ${site};`], { user: options.user });
  return runNginx(conf, dir, port, errorLog);
}

async function runNginx(conf: string, dir: string, port: number, errorLog: string): Promise<{ stop: () => Promise<void>; errorLog: string }> {
  const child: ResultPromise = execa(NGINX!, ['-c', conf, '-p', dir], { reject: false, stdio: 'ignore' });
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
