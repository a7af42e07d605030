import { cp, chmod, chown, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { lstatSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it, vi } from 'vitest';
import { ask, cli } from '../support/control.js';
import { CLI, EmperorProcess, NODE, fixtureCommand, vassalIni } from '../support/emperor.js';
import { logEvents, waitForEvents } from '../support/daemon.js';
import { get } from '../support/http.js';
import { freePort } from '../support/nginx.js';
import { PROMETHEUS_SKIP, parseMetrics } from '../support/prometheus.js';
import { sandbox } from '../support/sandbox.js';
import { OTHER_USER, TEST_EXTRA_GROUP, TEST_USER, isRoot, testAccount, testGroupId } from '../support/test-users.js';

const EXAMPLES = fileURLToPath(new URL('../../vassals.example/', import.meta.url));
const dir = sandbox('svs');

const sleeper = (extra: Record<string, string | number> = {}): string => vassalIni({ command: fixtureCommand('forever'), processes: 2, 'ready-after': 0.2, ...extra });

describe('supervisor --status', () => {
  it('prints the table for the running example: both vassals running, 2/2 ready, their pids; exit 0', async () => {
    await cp(EXAMPLES, dir.path, { recursive: true });
    // The example's fixed port may be in use on this machine (npm start): move it.
    const port = await freePort();
    const status = path.join(dir.path, 'status.ini');
    await writeFile(status, (await readFile(status, 'utf8')).replace('127.0.0.1:8731', `127.0.0.1:${port}`));
    const socket = dir.file('control.sock');
    const emperor = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket]);
    await vi.waitFor(() => expect(emperor.events('vassal.ready')).toHaveLength(2), { timeout: 30_000 });

    const { code, stdout } = await cli(['--status', socket]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^emperor ${emperor.pid} \\(supervisor \\d+\\.\\d+\\.\\d+\\), up \\d+s, watching ${dir.path}: 2 vassals, 4 of 4 workers ready$`));
    expect(lines[1]).toMatch(/^VASSAL +STATE +READY +PIDS +RESTARTS +UPTIME +RSS +CPU +LAST ERROR$/);
    for (const [line, name] of [
      [lines[2], 'hello.ini'],
      [lines[3], 'status.ini'],
    ] as const) {
      const pids = emperor.spawnedPids(name).sort((a, b) => a - b).join(',');
      expect(line).toMatch(new RegExp(`^${name.replace('.', '\\.')} +running +2/2 +${pids} +0 +\\d+s +\\d+(\\.\\d)?M +\\d+\\.\\ds +-$`));
    }
    expect(lines).toHaveLength(4);

    // --json: the snapshot itself.
    const json = await cli(['--status', '--json', '--control-socket', socket]);
    expect(JSON.parse(json.stdout)).toMatchObject({ format: 1, emperor: { pid: emperor.pid }, vassals: [{ name: 'hello.ini', state: 'running' }, { name: 'status.ini', state: 'running' }] });

    // Something wrong (a reload that failed: the old generation serves, the file's does not): exit 3, and the
    // table says what.
    await writeFile(path.join(dir.path, 'hello.ini'), vassalIni({ command: fixtureCommand('crash'), processes: 2, 'ready-after': 5 }));
    await emperor.waitForLog((r) => r.event === 'vassal.reload-failed' && r.vassal === 'hello.ini', 30_000);
    const broken = await cli(['--status', socket]);
    expect(broken.code).toBe(3);
    expect(broken.stdout).toMatch(/\nhello\.ini +running +2\/2 .* reload to generation 2 failed: worker 1 exit code 3 \((just now|\d+s ago)\)\n/);
  });

  it('says why when there is no emperor to ask', async () => {
    const missing = await cli(['--status', dir.file('nothing.sock')]);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe(`supervisor: no control socket at ${dir.file('nothing.sock')}: is the emperor running? (it logs its control socket's path at start)`);
  });
});

describe('supervisor --logs', () => {
  it('prints the last lines, and with --follow the new ones as they come', async () => {
    const trigger = dir.file('trigger');
    // Written whole, then renamed into place: the script may look between a plain write's truncation and its data.
    const pull = async (text: string): Promise<void> => {
      await writeFile(`${trigger}.new`, text);
      await rename(`${trigger}.new`, trigger);
    };
    // Prints a line each time the trigger file appears (in a script: $(...) in a vassal file is the config's own). It
    // takes the trigger away before it prints, so that the next one, written once this line is seen, is not lost.
    await writeFile(dir.file('app.sh'), `echo started\nwhile :; do if mv ${trigger} ${trigger}.seen 2>/dev/null; then echo "triggered $(cat ${trigger}.seen)"; fi; sleep 0.05; done\n`);
    await writeFile(dir.file('app.ini'), vassalIni({ command: `/bin/sh ${dir.file('app.sh')}`, 'ready-after': 0.2 }));
    const socket = dir.file('control.sock');
    const emperor = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket]);
    await emperor.waitForLog((r) => r.event === 'worker.output' && r.msg === 'started');

    const once = await cli(['--logs', 'app.ini', '--control-socket', socket]);
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} app\.ini\[1\] \d+ out\| started$/);

    // --lines 1: the last line kept comes first; the emperor subscribes the follower in the same turn, so once that
    // line is printed, every new line reaches it.
    const follower = execa(NODE, [CLI, '--logs', 'app', '--follow', '--lines', '1', '--control-socket', socket], { reject: false, buffer: true });
    let out = '';
    follower.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await vi.waitFor(() => expect(out).toMatch(/out\| started\n$/), { timeout: 30_000 });
    await pull('one');
    await vi.waitFor(() => expect(out).toMatch(/app\.ini\[1\] \d+ out\| triggered one\n$/), { timeout: 20_000 });
    await pull('two');
    await vi.waitFor(() => expect(out).toMatch(/app\.ini\[1\] \d+ out\| triggered two\n$/), { timeout: 20_000 });
    expect(out.trimEnd().split('\n').map((l) => l.replace(/^.*\| /, ''))).toEqual(['started', 'triggered one', 'triggered two']);
    follower.kill('SIGINT');
    await follower;
  });
});

describe('supervisor --logs of a log-direct vassal', () => {
  it('reads back the file its workers write themselves, and --follow prints what they add to it', async () => {
    const file = dir.file('direct.log');
    const chatter = vassalIni({ command: fixtureCommand('chatter'), 'ready-after': 0, logto: file, 'log-direct': true, env: ['CHATTER_COUNT=0', 'CHATTER_INTERVAL_MS=100'] });
    await writeFile(dir.file('direct.ini'), chatter);
    const socket = dir.file('control.sock');
    const emperor = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket]);
    await vi.waitFor(async () => expect(await readFile(file, 'utf8')).toMatch(/direct\.ini w1 stdout 3\n/), { timeout: 20_000, interval: 50 });
    expect(emperor.events('worker.output')).toEqual([]);

    // 200 lines kept back: line 3 is still among them however slowly the CLI starts (one line per 0.1 s).
    const once = await cli(['--logs', 'direct.ini', '--lines', '200', '--control-socket', socket]);
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/direct\.ini w1 stdout 3$/m);
    const seen = Math.max(...[...once.stdout.matchAll(/direct\.ini w1 stdout (\d+)$/gm)].map((m) => Number(m[1])));

    const follower = execa(NODE, [CLI, '--logs', 'direct.ini', '--follow', '--lines', '1', '--control-socket', socket], { reject: false, buffer: true });
    let out = '';
    follower.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // --lines 1 prints one line kept; six in order are the follower's.
    const numbers = (): number[] => [...out.matchAll(/direct\.ini w1 stdout (\d+)$/gm)].map((m) => Number(m[1]));
    await vi.waitFor(() => expect(numbers().length).toBeGreaterThanOrEqual(6), { timeout: 30_000, interval: 50 });
    expect(numbers()[0]).toBeGreaterThanOrEqual(seen);
    expect(numbers()).toEqual([...numbers()].sort((a, b) => a - b));
    follower.kill('SIGINT');
    await follower;
  });
});

describe('supervisor --reload PIDFILE --wait', () => {
  it('returns once every roll is done, one line per vassal; exit 1 naming the vassal whose reload failed; refuses another emperor', async () => {
    // Workers that take a second to be ready: a roll takes at least that long.
    await writeFile(dir.file('a.ini'), sleeper({ 'ready-after': 1, env: 'GEN=1' }));
    await writeFile(dir.file('b.ini'), sleeper({ 'ready-after': 1 }));
    const socket = dir.file('control.sock');
    const pidfile = dir.file('emperor.pid');
    const emperor = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket, '--pidfile', pidfile]);
    await vi.waitFor(() => expect(emperor.events('vassal.ready')).toHaveLength(2), { timeout: 30_000 });

    const done = await cli(['--reload', pidfile, '--wait', '--control-socket', socket]);
    const answeredAt = Date.now();
    expect(done).toMatchObject({ code: 0, stderr: '' });
    expect(done.stdout).toBe('a.ini: reloaded: runs generation 2\nb.ini: reloaded: runs generation 2');
    // Both rolls had ended when it returned: their successors were all ready. (The emperor's log is asynchronous:
    // wait for the records, then compare their times with the answer's.)
    await vi.waitFor(() => expect(emperor.events('vassal.reloaded').map((r) => r.vassal).sort()).toEqual(['a.ini', 'b.ini']), { timeout: 20_000 });
    for (const r of emperor.events('vassal.reloaded')) expect(Date.parse(r.time as string)).toBeLessThanOrEqual(answeredAt);

    // A reload whose new generation cannot start: the old one keeps serving, and the command says so.
    await writeFile(dir.file('a.ini'), vassalIni({ command: fixtureCommand('crash'), processes: 2, 'ready-after': 5 }));
    await emperor.waitForLog((r) => r.event === 'vassal.reload-failed' && r.vassal === 'a.ini', 30_000);
    const failed = await cli(['--reload', String(emperor.pid), '--wait', '--control-socket', socket]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^supervisor: a\.ini: /);

    // The socket is this emperor's, the pid another's: nothing is reloaded.
    const reloads = emperor.events('vassal.reload').length;
    const other = await cli(['--reload', String(process.pid), '--wait', '--control-socket', socket]);
    expect(other).toMatchObject({ code: 1, stdout: '' });
    expect(other.stderr).toBe(`supervisor: the control socket ${socket} belongs to emperor ${emperor.pid}, not ${process.pid}: give its --control-socket PATH`);
    expect(emperor.events('vassal.reload')).toHaveLength(reloads);
  });
});

describe('supervisor --reload PID --wait is the reload a SIGHUP is', () => {
  it("reopens the emperor's log with log-reopen, as SIGHUP does; without a socket it can find, it sends SIGHUP and exits 1 saying it could not wait", async () => {
    await writeFile(dir.file('a.ini'), sleeper());
    const socket = dir.file('control.sock');
    const logFile = dir.file('emperor.log');
    const emperor = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket, '--logto', logFile, '--log-reopen']);
    await waitForEvents(logFile, 'vassal.ready', 1);

    // logrotate's move: the emperor writes on into the moved file until it reopens its log.
    await rename(logFile, dir.file('emperor.log.1'));
    const done = await cli(['--reload', String(emperor.pid), '--wait', '--control-socket', socket]);
    expect(done).toMatchObject({ code: 0, stdout: 'a.ini: reloaded: runs generation 2', stderr: '' });
    // Reopened at the reload's start: the rolls' records are in a new file at the configured path (without the
    // reopen there would be no file there at all), the earlier ones stay in the moved one.
    const reloaded = await waitForEvents(logFile, 'vassal.reloaded', 1);
    expect(reloaded[0]).toMatchObject({ vassal: 'a.ini', generation: 2 });
    expect(logEvents(dir.file('emperor.log.1'), 'vassal.ready')).toHaveLength(1);
    expect(logEvents(logFile, 'vassal.ready')).toHaveLength(0);

    // The socket is not one this user's clients find by themselves (it is not under the runtime root): the reload is
    // still done, by SIGHUP, and the exit status says it was not waited for.
    const fallback = await cli(['--reload', String(emperor.pid), '--wait']);
    expect(fallback.code).toBe(1);
    expect(fallback.stderr).toMatch(
      new RegExp(`^supervisor: no control socket of emperor ${emperor.pid} .*; if its config sets control-socket, give --control-socket PATH; sent SIGHUP to emperor ${emperor.pid} instead: it reloads, but this command cannot wait for the rolls$`),
    );
    await vi.waitFor(() => expect(logEvents(logFile, 'vassal.reloaded').map((r) => r.generation)).toEqual([2, 3]), { timeout: 30_000 });
    expect(logEvents(logFile, 'emperor.signal').map((r) => r.signal)).toEqual(['SIGHUP']);

    // Never to a process that is not an emperor (a stale pidfile's pid, reused): nothing is sent.
    const bystander = execa('sleep', ['60']);
    try {
      const refused = await cli(['--reload', String(bystander.pid), '--wait']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`; and process ${bystander.pid} is not a supervisor emperor \\(it runs "sleep 60"\\): nothing was sent$`));
      expect(bystander.exitCode).toBeNull();
    } finally {
      bystander.kill('SIGKILL');
      await bystander.catch(() => undefined);
    }
    emperor.child.kill('SIGTERM');
    expect((await emperor.exit()).code).toBe(0);
  });

  it('a stop while --wait waits for the rolls: the command is told so', async () => {
    // Successors that take 4 s to be ready: the stop comes in the middle of the roll.
    await writeFile(dir.file('a.ini'), sleeper({ 'ready-after': 4 }));
    const socket = dir.file('control.sock');
    const emperor = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket]);
    await vi.waitFor(() => expect(emperor.events('vassal.ready')).toHaveLength(1), { timeout: 30_000 });
    const waiting = cli(['--reload', String(emperor.pid), '--wait', '--control-socket', socket]);
    await vi.waitFor(() => expect(emperor.events('vassal.reload')).toHaveLength(1), { timeout: 30_000 });
    emperor.child.kill('SIGINT');
    // An answer, not a connection closed on it after the control socket's grace time (10 s) for a command that never
    // ends: the rolls' waiters are told when their vassal stops.
    expect(await waiting).toMatchObject({ code: 1, stdout: '', stderr: 'supervisor: the emperor stopped before the reload had ended' });
    expect((await emperor.exit()).code).toBe(0);
  });
});

describe.skipIf(Boolean(PROMETHEUS_SKIP))(`metrics${PROMETHEUS_SKIP}`, () => {
  it('supervisor --metrics and metrics-http /metrics parse with the official Prometheus parser; /status is the snapshot; nothing else is accepted', async () => {
    await writeFile(dir.file('app.ini'), sleeper());
    const socket = dir.file('control.sock');
    const port = await freePort();
    const emperor = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket, '--metrics-http', `127.0.0.1:${port}`]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');

    const { code, stdout } = await cli(['--metrics', '--control-socket', socket]);
    expect(code).toBe(0);
    const families = parseMetrics(stdout);
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      families.find((f) => f.name === name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('supervisor_vassal_workers_ready', { vassal: 'app.ini' })).toBe(2);
    expect(value('supervisor_worker_ready', { vassal: 'app.ini', worker: '2' })).toBe(1);
    expect(value('supervisor_worker_resident_memory_bytes', { vassal: 'app.ini', worker: '1' })).toBeGreaterThan(1 << 20);
    expect(value('supervisor_worker_restarts', { vassal: 'app.ini', worker: '1' })).toBe(0);

    const scraped = await get({ host: '127.0.0.1', port }, '/metrics');
    expect(scraped.status).toBe(200);
    expect(parseMetrics(scraped.body).map((f) => f.name)).toEqual(families.map((f) => f.name));
    const snapshot = await get({ host: '127.0.0.1', port }, '/status');
    expect(JSON.parse(snapshot.body)).toMatchObject({ emperor: { pid: emperor.pid }, vassals: [{ name: 'app.ini', ready: 2 }] });
    // Read-only: no method but GET and HEAD, no other path.
    const posted = await new Promise<number>((resolve, reject) => {
      const conn = net.connect(port, '127.0.0.1', () => conn.write(`POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 18\r\n\r\n{"command":"stop"}`));
      conn.setEncoding('utf8');
      conn.once('data', (d: string) => {
        conn.destroy();
        resolve(Number(d.split(' ')[1]));
      });
      conn.on('error', reject);
    });
    expect(posted).toBe(405);
    expect((await get({ host: '127.0.0.1', port }, '/stop')).status).toBe(404);
    expect(emperor.events('emperor.stop')).toHaveLength(0);
  });
});

describe('emperor-stats', () => {
  it("serves uWSGI's emperor stats JSON on connect (TCP and unix), and warns about an address other than loopback", async () => {
    await writeFile(dir.file('app.ini'), sleeper());
    const port = await freePort();
    const unix = dir.file('stats.sock');
    const emperor = new EmperorProcess(['--emperor', dir.path, '--control-socket', dir.file('control.sock'), '--emperor-stats', `0.0.0.0:${port}`]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const read = (connect: () => net.Socket): Promise<string> =>
      new Promise((resolve, reject) => {
        let body = '';
        const conn = connect();
        conn.setEncoding('utf8');
        conn.on('data', (d: string) => (body += d));
        conn.on('end', () => resolve(body));
        conn.on('error', reject);
      });
    const stats = JSON.parse(await read(() => net.connect(port, '127.0.0.1'))) as Record<string, unknown> & { vassals: Record<string, unknown>[] };
    expect(Object.keys(stats)).toEqual(['version', 'pid', 'uid', 'gid', 'cwd', 'emperor', 'emperor_tyrant', 'throttle_level', 'vassals', 'blacklist']);
    expect(stats).toMatchObject({ pid: emperor.pid, emperor: [dir.path], emperor_tyrant: 0 });
    expect(stats.vassals).toEqual([expect.objectContaining({ id: 'app.ini', ready: 1, accepting: 1, respawns: 0, monitor: dir.path, pid: expect.any(Number) })]);
    expect(emperor.events('control.open-to-network')).toEqual([expect.objectContaining({ option: 'emperor-stats', address: `0.0.0.0:${port}` })]);

    const other = new EmperorProcess(['--emperor', dir.file('none'), '--emperor-wait', '--control-socket', dir.file('control2.sock'), '--emperor-stats', unix]);
    await other.waitForLog((r) => r.event === 'control.emperor-stats');
    expect(lstatSync(unix).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await read(() => net.connect(unix)))).toMatchObject({ pid: other.pid, vassals: [] });
  });

  it('refuses uWSGI\'s :PORT shorthand for every interface: the address must say so', async () => {
    const result = await cli(['--emperor', dir.path, '--metrics-http', ':9101']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('":9101" would listen on every interface: write 127.0.0.1:9101 for this host only, or 0.0.0.0:9101 if every interface is really meant');
  });
});

describe.skipIf(!isRoot)('who can use the control socket', () => {
  it('only the emperor\'s user: another user is refused by the kernel, and the CLI says so; control-socket-group lets that group in', async () => {
    await chmod(dir.path, 0o755);
    await writeFile(dir.file('app.ini'), sleeper({ processes: 1 }));
    const socket = dir.file('control.sock');
    const emperor = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const other = testAccount(OTHER_USER);
    const member = testAccount(TEST_USER);

    for (const user of [other, member]) {
      const refused = await cli(['--status', socket], { user });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(
        `supervisor: permission denied on ${socket}: only the emperor's user (and the members of its control-socket-group, if it has one) may use its control socket`,
      );
    }
    // Not even a raw connect gets through: the kernel checks the file's permissions at connect(2).
    const raw = await execa('/usr/bin/setpriv', ['--reuid', String(other.uid), '--regid', String(other.gid), '--clear-groups', '--', NODE, '-e',
      `require('net').connect(${JSON.stringify(socket)}).on('error', (e) => { console.log(e.code); }).on('connect', () => console.log('connected'))`], { reject: false });
    expect(raw.stdout).toBe('EACCES');
    await emperor.kill();

    const grouped = new EmperorProcess(['--emperor', dir.path, '--control-socket', socket, '--control-socket-group', TEST_EXTRA_GROUP]);
    await grouped.waitForLog((r) => r.event === 'vassal.ready');
    const st = lstatSync(socket);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o660, 0, testGroupId(TEST_EXTRA_GROUP)]);
    // TEST_USER has svtest-extra as a supplementary group.
    const allowed = await cli(['--status', socket, '--json'], { user: member });
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ emperor: { pid: grouped.pid } });
    expect((await cli(['--status', socket], { user: other })).stderr).toMatch(/permission denied/);
  });
});

describe.skipIf(!isRoot)('the default control socket (an emperor of another user than root)', () => {
  it('is $XDG_RUNTIME_DIR/supervisor/control.sock; a second emperor uses its run directory; --status without a path finds them', async () => {
    const user = testAccount(TEST_USER);
    await chmod(dir.path, 0o755);
    const xdg = dir.file('xdg');
    await mkdir(xdg, { mode: 0o700 });
    await chown(xdg, user.uid, user.gid);
    for (const d of ['a', 'b']) {
      await mkdir(dir.file(d));
      await writeFile(dir.file(`${d}/app.ini`), vassalIni({ command: 'sleep 3600', 'ready-after': 0 }));
    }
    const env = { XDG_RUNTIME_DIR: xdg };
    const asUser = ['/usr/bin/setpriv', '--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--'];
    const defaultPath = `${xdg}/supervisor/control.sock`;

    const first = new EmperorProcess(['--emperor', dir.file('a')], { wrap: asUser, env });
    await first.waitForLog((r) => r.event === 'vassal.ready');
    expect(first.events('control.listening')[0]).toMatchObject({ path: defaultPath, mode: '0600' });
    const st = lstatSync(defaultPath);
    expect([st.mode & 0o7777, st.uid]).toEqual([0o600, user.uid]);

    const second = new EmperorProcess(['--emperor', dir.file('b')], { wrap: asUser, env });
    const taken = await second.waitForLog((r) => r.event === 'control.default-taken');
    expect(taken.holder).toBe(first.pid);
    expect(taken.path).toMatch(new RegExp(`^${xdg}/supervisor/[0-9a-f]{16}/control\\.sock$`));
    await second.waitForLog((r) => r.event === 'control.listening');

    const status = await cli(['--status', '--json'], { user, env });
    expect(JSON.parse(status.stdout)).toMatchObject({ emperor: { pid: first.pid } });
    const [answer] = await ask(taken.path as string, { command: 'status' });
    expect(answer?.snapshot).toMatchObject({ emperor: { pid: second.pid } });

    // The first stops: its socket goes with it, and --status finds the second's in its run directory.
    first.child.kill('SIGTERM');
    expect((await first.exit()).code).toBe(0);
    expect(JSON.parse((await cli(['--status', '--json'], { user, env })).stdout)).toMatchObject({ emperor: { pid: second.pid } });
    await second.kill();

    // An emperor killed with SIGKILL leaves its socket file: --status says nobody listens, the next emperor replaces it.
    const third = new EmperorProcess(['--emperor', dir.file('a')], { wrap: asUser, env });
    await third.waitForLog((r) => r.event === 'control.listening' && r.path === defaultPath);
    await third.kill();
    const stale = await cli(['--status'], { user, env });
    expect(stale.stderr).toBe(`supervisor: nothing listens on ${defaultPath}: the emperor that made it is gone`);
    const fourth = new EmperorProcess(['--emperor', dir.file('a')], { wrap: asUser, env });
    await fourth.waitForLog((r) => r.event === 'control.listening' && r.path === defaultPath);
    expect(JSON.parse((await cli(['--status', '--json'], { user, env })).stdout)).toMatchObject({ emperor: { pid: fourth.pid } });
  });
});
