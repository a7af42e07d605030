import net from 'node:net';
import { execa } from 'execa';
import { vi } from 'vitest';
import { NGINX, writeNginxConf } from '../../bench/nginx.mjs';

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
  const child = execa(NGINX, ['-c', conf, '-p', dir], { reject: false, stdio: 'ignore' });
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
