// The worked example of guide 003 (vassals.example/guide-003), run from a copy of its exact files, as an administrator
// who installed the tree as /usr/local/supervisor would: systemd's part played with the example's own unit (ExecStart=,
// PIDFile=, ExecReload= with $MAINPID, KillSignal=), a real nginx with the example's site (uwsgi_pass to the vassal's
// socket), uWSGI running the Flask app as the vassal's command. Only the install paths and nginx's port are changed.
import { chmodSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadLoop } from '../../bench/load-loop.mjs';
import { connects, killDaemonsAfterEach, logEvents, runToExit, tagged, waitForEvents, waitForExit } from '../support/daemon.js';
import { NODE } from '../support/emperor.js';
import { get } from '../support/http.js';
import { freePort, startNginxSite } from '../support/nginx.js';
import { sandbox } from '../support/sandbox.js';
import { execCommand, mapPaths, readUnit, REPO, unitValue, type PathMap } from '../support/systemd-unit.js';
import { isRoot, testAccount } from '../support/test-users.js';
import { UWSGI_SKIP } from '../support/uwsgi.js';

const EXAMPLE = path.join(REPO, 'vassals.example/guide-003');
const UNIT = readUnit(path.join(EXAMPLE, 'systemd/supervisor.service'));
const skip = UWSGI_SKIP || (isRoot ? '' : ' [SKIPPED: needs root, as the unit runs the emperor]');

const dir = sandbox('sv-g3');
killDaemonsAfterEach();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Copies the example as a checkout would have it (directories 0755, files 0644), to `to`. */
function install(to: string): void {
  cpSync(EXAMPLE, to, { recursive: true });
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) {
      chmodSync(p, 0o755);
      for (const entry of readdirSync(p)) walk(path.join(p, entry));
    } else chmodSync(p, 0o644);
  };
  walk(to);
  for (let up = path.dirname(to); up.startsWith(dir.path); up = path.dirname(up)) chmodSync(up, 0o755);
}

describe.skipIf(Boolean(skip))(`guide 003's tree (vassals.example/guide-003)${skip}`, () => {
  it('starts daemonized with its unit, serves the Flask app through nginx as www-data, logs where the guide says, reloads under load without a failed request, stops cleanly', async () => {
    const root = dir.file('usr/local/supervisor');
    install(root);
    const map: PathMap = [
      ['/usr/local/supervisor', root],
      ['/opt/supervisor/', REPO],
      ['/usr/bin/node', NODE],
    ];
    const wwwData = testAccount('www-data');
    const socket = path.join(root, 'var/run/skycmdb.sock');
    const emperorLog = path.join(root, 'var/log/supervisor.log');
    const appLog = path.join(root, 'var/log/skycmdb.log');

    // systemctl start: ExecStart=, then PIDFile=.
    const started = await runToExit(execCommand(UNIT, 'ExecStart', map));
    expect(started.code, started.stderr).toBe(0);
    await connects({ path: socket });
    const pid = Number(readFileSync(mapPaths(unitValue(UNIT, 'Service', 'PIDFile')!, map), 'utf8'));
    expect(started.stdout).toBe(`supervisor: emperor ${pid} is up (log: ${emperorLog})\n`);
    expect(statSync(socket)).toMatchObject({ uid: wwwData.uid, gid: wwwData.gid });
    expect(statSync(socket).mode & 0o777).toBe(0o660);

    // nginx with the example's site: only its port and the install path are this test's.
    const port = await freePort();
    const shipped = readFileSync(path.join(root, 'nginx/skycmdb.conf'), 'utf8');
    expect(shipped).toContain('listen 80;');
    expect(shipped).toContain('uwsgi_pass unix:/usr/local/supervisor/var/run/skycmdb.sock;');
    const site = path.join(dir.path, 'skycmdb-site.conf');
    writeFileSync(site, mapPaths(shipped.replace('listen 80;', `listen 127.0.0.1:${port};`), map));
    const nginx = await startNginxSite(dir.path, port, site, { user: 'www-data www-data' });
    cleanups.push(nginx.stop);
    const first = await vi.waitFor(
      async () => {
        const answer = await get({ host: '127.0.0.1', port });
        expect(answer.status, readFileSync(nginx.errorLog, 'utf8')).toBe(200);
        return answer.body;
      },
      { timeout: 60_000, interval: 100 },
    );
    // The emperor.ini's uid/gid: the vassal names none.
    expect(first).toMatch(new RegExp(`^hello from skycmdb: pid \\d+ uid ${wwwData.uid} gid ${wwwData.gid}\\n$`));

    // Where the guide's files say: the emperor's log (daemonize) and the app's (logto), uWSGI's own lines in it.
    expect(logEvents(emperorLog, 'emperor.start')).toHaveLength(1);
    await vi.waitFor(() => expect(readFileSync(appLog, 'utf8')).toMatch(/spawned uWSGI master process/), { timeout: 30_000 });

    // systemctl reload, under load: the uWSGI master rolls (a new one up before the old one is told q).
    const load = loadLoop({ port, connections: 4 });
    try {
      await vi.waitFor(() => expect(load.result.ok).toBeGreaterThan(20), { timeout: 30_000, interval: 50 });
      const reload = await runToExit(execCommand(UNIT, 'ExecReload', map, { MAINPID: String(pid) }));
      expect(reload.code, reload.stderr).toBe(0);
      // --wait: it returned once the new uWSGI master was ready and the old one told to go.
      expect(reload.stdout).toMatch(/^\S+\.ini: reloaded: runs generation 2$/m);
      await waitForEvents(emperorLog, 'vassal.reloaded', 1, 90_000);
      const served = load.result.ok;
      await vi.waitFor(() => expect(load.result.ok).toBeGreaterThan(served + 20), { timeout: 30_000, interval: 50 });
    } finally {
      await load.stop();
    }
    expect({ failed: load.result.failed, failures: load.result.failures }).toEqual({ failed: 0, failures: [] });
    const masters = logEvents(emperorLog, 'worker.spawn').map((r) => r.pid);
    expect(masters).toHaveLength(2);

    // systemctl stop: KillSignal= to the main process (KillMode=mixed).
    process.kill(pid, unitValue(UNIT, 'Service', 'KillSignal') as NodeJS.Signals);
    await waitForExit(pid, 90_000);
    await vi.waitFor(() => expect(tagged(started.tag)).toEqual([]), { timeout: 30_000, interval: 50 });
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(path.join(root, 'var/run/supervisor.pid'))).toBe(false);
    // Each master was stopped through its FIFO (q: requests in flight finish) and ended by itself.
    const stops = logEvents(emperorLog, 'worker.stop');
    expect(stops.map((r) => r.request)).toEqual(stops.map(() => 'written'));
    expect(logEvents(emperorLog, 'worker.exit').map((r) => [r.code, r.forced])).toEqual([
      [0, false],
      [0, false],
    ]);
  });
});
