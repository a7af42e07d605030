import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { get } from '../support/http.js';
import { freePort, NGINX, startNginx } from '../support/nginx.js';
import { tempDir } from '../support/temp-dir.js';

// In CI nginx is installed by .ci/run and this test must run; elsewhere a missing nginx skips it, visibly.
const skipReason = !NGINX && process.env.CI !== 'true' ? ' [SKIPPED: nginx is not installed; apt-get install nginx]' : '';
if (skipReason) console.warn(`nginx test${skipReason}`);

describe('behind a real nginx', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it.skipIf(Boolean(skipReason))(`nginx proxy_passes to the vassal's unix socket and gets 200 from the app${skipReason}`, async () => {
    const dir = await tempDir('sv-nginx');
    cleanups.push(dir.remove);
    // nginx's workers run as nobody: they must be able to reach the socket's directory (mkdtemp makes it 0700).
    await chmod(dir.path, 0o755);
    const socketPath = path.join(dir.path, 'app.sock');
    await writeFile(
      path.join(dir.path, 'app.ini'),
      vassalIni({
        command: fixtureCommand('serve-on-fd3'),
        processes: 2,
        socket: 'app.sock',
        'chmod-socket': 660,
        'chown-socket': 'root:nogroup',
        vacuum: true,
        'notification-fd': 'auto',
      }),
    );
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    cleanups.push(() => emperor.kill());
    await vi.waitFor(() => get({ socketPath }), { timeout: 20_000, interval: 50 });
    const st = await stat(socketPath);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(65534);

    const port = await freePort();
    const nginx = await startNginx(dir.path, port, socketPath);
    cleanups.push(nginx.stop);

    const answer = await get({ host: '127.0.0.1', port });
    const errors = await readFile(nginx.errorLog, 'utf8').catch(() => '');
    expect(answer.status, errors).toBe(200);
    const body = JSON.parse(answer.body) as { pid: number };
    expect(emperor.spawnedPids('app.ini')).toContain(body.pid);
  });
});
