// Vassal files moved, linked, swapped by Kubernetes, matched by globs, and the directory itself coming and going.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { kubeletWrite, saveLikeNano, vimSession } from '../support/file-changes.js';
import { get } from '../support/http.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { actions, plannedFor, sleeperIni } from '../support/vassal-dir.js';

const dir = sandbox();
let emperor: EmperorProcess | undefined;

/** No safety-net rescan: file events alone must do what these tests expect. */
const EVENTS_ONLY = ['--emperor-freq', '0'];

const ready = (e: EmperorProcess, vassal: string, count = 1): Promise<unknown> =>
  vi.waitFor(() => expect(e.events('worker.ready', vassal).length).toBeGreaterThanOrEqual(count), { timeout: 20_000 });

/** A second, unrelated change that is seen: every reconcile caused by what came before has logged its plan. */
async function markerSeen(e: EmperorProcess, where = dir.path, name = 'marker.ini'): Promise<void> {
  await writeFile(path.join(where, name), sleeperIni());
  await e.waitForLog((r) => r.event === 'vassal.start' && r.vassal === name);
}

describe('renames', () => {
  it('mv a.ini b.ini naming the same socket: b starts before a stops, b ends up serving, the socket file stays', async () => {
    const a = path.join(dir.path, 'a.ini');
    const socketPath = path.join(dir.path, 'app.sock');
    await writeFile(a, vassalIni({ command: fixtureCommand('serve-on-fd3'), socket: 'app.sock', vacuum: true, 'notification-fd': 'auto' }));
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await vi.waitFor(() => get({ socketPath }), { timeout: 20_000, interval: 50 });
    const { ino } = await stat(socketPath);

    // Clients keep asking all through the move: none may be refused (the socket is never closed).
    const statuses: (number | string)[] = [];
    let asking = true;
    const client = (async () => {
      while (asking) statuses.push(await get({ socketPath }).then((r) => r.status, (err: Error) => err.message));
    })();
    execFileSync('mv', [a, path.join(dir.path, 'b.ini')]);
    await emperor.waitForLog((r) => r.event === 'vassal.stopped' && r.vassal === 'a.ini');
    const bPids = () => emperor!.spawnedPids('b.ini');
    await vi.waitFor(
      async () => {
        const answer = JSON.parse((await get({ socketPath })).body) as { pid: number };
        expect(bPids()).toContain(answer.pid);
      },
      { timeout: 20_000, interval: 50 },
    );
    asking = false;
    await client;
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // b was started no later than a was stopped (b, complete, at once; a once the directory has settled, or in the
    // same reconcile), so b leased the socket a still held; the socket was handed over, never rebound: same inode,
    // and a's vacuum did not remove it.
    const syncs = emperor.events('emperor.sync');
    const startedB = syncs.findIndex((r) => (r.start as string[]).includes(path.join(dir.path, 'b.ini')));
    const stoppedA = syncs.findIndex((r) => (r.stop as string[]).includes(a));
    expect(startedB).toBeGreaterThanOrEqual(0);
    expect(stoppedA).toBeGreaterThanOrEqual(startedB);
    expect((await stat(socketPath)).ino).toBe(ino);
    expect(emperor.spawnedPids('a.ini').filter(isAlive)).toEqual([]);
  });

  it('a file moved in from elsewhere starts; moved out stops; nothing is left of either', async () => {
    const outside = path.join(dir.path, 'outside');
    const vassals = path.join(dir.path, 'vassals');
    await mkdir(outside);
    await mkdir(vassals);
    await writeFile(path.join(outside, 'in.ini'), sleeperIni());
    await writeFile(path.join(vassals, 'out.ini'), sleeperIni());
    emperor = new EmperorProcess(['--emperor', vassals, ...EVENTS_ONLY]);
    await ready(emperor, 'out.ini');

    execFileSync('mv', [path.join(outside, 'in.ini'), vassals]);
    execFileSync('mv', [path.join(vassals, 'out.ini'), outside]);
    await emperor.waitForLog((r) => r.event === 'vassal.stopped' && r.vassal === 'out.ini');
    await ready(emperor, 'in.ini');
    expect(actions(emperor, 'in.ini')).toEqual({ start: 1, reload: 0, scale: 0, stop: 0 });
    expect(actions(emperor, 'out.ini')).toEqual({ start: 1, reload: 0, scale: 0, stop: 1 });
    expect(emperor.spawnedPids('out.ini').filter(isAlive)).toEqual([]);
  });
});

describe('symlinks', () => {
  it('apps-enabled -> apps-available: editing the target (in place and by rename) reloads, retargeting reloads, a dangling link stops', async () => {
    const available = path.join(dir.path, 'apps-available');
    const enabled = path.join(dir.path, 'apps-enabled');
    await mkdir(available);
    await mkdir(enabled);
    const target = path.join(available, 'site.ini');
    await writeFile(target, sleeperIni({ env: 'V=1' }));
    await writeFile(path.join(available, 'other.ini'), sleeperIni({ env: 'V=other' }));
    const link = path.join(enabled, 'site.ini');
    await symlink('../apps-available/site.ini', link);
    emperor = new EmperorProcess(['--emperor', enabled, ...EVENTS_ONLY]);
    await ready(emperor, 'site.ini');

    saveLikeNano(target, sleeperIni({ env: 'V=2' }));
    await vi.waitFor(() => expect(actions(emperor!, 'site.ini').reload).toBe(1), { timeout: 20_000 });

    // vim renames the old target away: the link now resolves to a new inode in a directory not watched as vassals.
    const session = vimSession(target);
    session.save(sleeperIni({ env: 'V=3' }));
    session.quit();
    await vi.waitFor(() => expect(actions(emperor!, 'site.ini').reload).toBe(2), { timeout: 20_000 });

    execFileSync('ln', ['-sfn', '../apps-available/other.ini', link]);
    await vi.waitFor(() => expect(actions(emperor!, 'site.ini').reload).toBe(3), { timeout: 20_000 });

    await unlink(path.join(available, 'other.ini'));
    const dangling = await emperor.waitForLog((r) => r.event === 'vassal.dangling');
    expect(dangling.file).toBe(link);
    await emperor.waitForLog((r) => r.event === 'vassal.stopped' && r.vassal === 'site.ini');
    expect(actions(emperor, 'site.ini')).toEqual({ start: 1, reload: 3, scale: 0, stop: 1 });
    expect(emperor.spawnedPids('site.ini').filter(isAlive)).toEqual([]);
  });

  it('a ConfigMap volume swapped as the kubelet does: exactly the vassals whose content changed reload; dropped keys stop, new keys start', async () => {
    const volume = path.join(dir.path, 'configmap');
    await mkdir(volume);
    const payload = { 'a.ini': sleeperIni({ env: 'A=1' }), 'b.ini': sleeperIni({ env: 'B=1' }), 'c.ini': sleeperIni({ env: 'C=1' }) };
    kubeletWrite(volume, payload);
    emperor = new EmperorProcess(['--emperor', volume, ...EVENTS_ONLY]);
    for (const name of ['a.ini', 'b.ini', 'c.ini']) await ready(emperor, name);

    // b changes; a and c are rewritten with the same content into the new timestamped directory.
    kubeletWrite(volume, { ...payload, 'b.ini': sleeperIni({ env: 'B=2' }) });
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'b.ini');

    // c is dropped from the ConfigMap, d added.
    kubeletWrite(volume, { 'a.ini': payload['a.ini'], 'b.ini': sleeperIni({ env: 'B=2' }), 'd.ini': sleeperIni({ env: 'D=1' }) });
    await emperor.waitForLog((r) => r.event === 'vassal.stopped' && r.vassal === 'c.ini');
    await ready(emperor, 'd.ini');
    await markerSeen(emperor, volume, 'zz-marker.ini');

    expect(actions(emperor, 'a.ini')).toEqual({ start: 1, reload: 0, scale: 0, stop: 0 });
    expect(actions(emperor, 'b.ini')).toEqual({ start: 1, reload: 1, scale: 0, stop: 0 });
    expect(actions(emperor, 'c.ini')).toEqual({ start: 1, reload: 0, scale: 0, stop: 1 });
    expect(actions(emperor, 'd.ini')).toEqual({ start: 1, reload: 0, scale: 0, stop: 0 });
    // Nothing for the kubelet's own entries (..data, ..data_tmp, the timestamped directories).
    expect(new Set(emperor.events('vassal.start').map((r) => r.vassal))).toEqual(new Set(['a.ini', 'b.ini', 'c.ini', 'd.ini', 'zz-marker.ini']));
  });
});

describe('patterns', () => {
  it('globs and directories, given several times; only .ini unless emperor-extension says otherwise', async () => {
    const one = path.join(dir.path, 'one');
    const two = path.join(dir.path, 'two');
    const apps = path.join(dir.path, 'apps');
    for (const d of [one, two, path.join(apps, 'shop', 'deploy'), path.join(apps, 'blog', 'deploy'), path.join(apps, 'blog', 'other')]) {
      await mkdir(d, { recursive: true });
    }
    await writeFile(path.join(one, 'app-x.ini'), sleeperIni());
    await writeFile(path.join(one, 'other.ini'), sleeperIni());
    await writeFile(path.join(two, 'y.ini'), sleeperIni());
    await writeFile(path.join(two, 'y.conf'), sleeperIni());
    await writeFile(path.join(two, 'y.ini~'), sleeperIni());
    await writeFile(path.join(apps, 'shop', 'deploy', 'shop.ini'), sleeperIni());
    await writeFile(path.join(apps, 'blog', 'other', 'blog.ini'), sleeperIni());
    emperor = new EmperorProcess(['--emperor', `${one}/app-*.ini`, '--emperor', two, '--emperor', `${apps}/*/deploy/*.ini`, ...EVENTS_ONLY]);
    await ready(emperor, 'app-x.ini');
    await ready(emperor, 'y.ini');
    await ready(emperor, 'shop.ini');

    // A new match appears in a directory the glob reaches but that did not exist when the emperor started.
    await mkdir(path.join(apps, 'wiki', 'deploy'), { recursive: true });
    await writeFile(path.join(apps, 'wiki', 'deploy', 'wiki.ini'), sleeperIni());
    await ready(emperor, 'wiki.ini');
    await markerSeen(emperor, two);
    expect(new Set(emperor.events('vassal.start').map((r) => r.vassal))).toEqual(new Set(['app-x.ini', 'y.ini', 'shop.ini', 'wiki.ini', 'marker.ini']));

    const conf = new EmperorProcess(['--emperor', `${two}/*.conf`, '--emperor-extension', '.conf']);
    try {
      await vi.waitFor(() => expect(conf.events('worker.ready', 'y.conf')).toHaveLength(1), { timeout: 20_000 });
      expect(conf.events('vassal.start').map((r) => r.vassal)).toEqual(['y.conf']);
    } finally {
      await conf.kill();
    }
  });

  it('warns when a glob can match no vassal file', async () => {
    emperor = new EmperorProcess(['--emperor', `${dir.path}/*.conf`]);
    const warning = await emperor.waitForLog((r) => r.event === 'emperor.pattern-warning');
    expect(warning.msg).toContain('emperor-extension = .conf');
  });
});

describe('the directory itself', () => {
  it('with emperor-wait, starts before the directory exists and follows it once it appears', async () => {
    const vassals = path.join(dir.path, 'later', 'vassals');
    emperor = new EmperorProcess(['--emperor', vassals, '--emperor-wait', ...EVENTS_ONLY]);
    await emperor.waitForLog((r) => r.event === 'emperor.dir-missing');
    await mkdir(vassals, { recursive: true });
    await writeFile(path.join(vassals, 'late.ini'), sleeperIni());
    await ready(emperor, 'late.ini');
    await emperor.waitForLog((r) => r.event === 'emperor.dir-found');
  });

  it('without emperor-wait, a missing directory is an error at startup', async () => {
    emperor = new EmperorProcess(['--emperor', path.join(dir.path, 'nope')]);
    const { code } = await emperor.exit();
    expect(code).toBe(1);
    expect(emperor.stderr.join('')).toContain('emperor-wait');
  });

  it('removed: its vassals stop and nothing is left; recreated: what it holds then starts', async () => {
    const vassals = path.join(dir.path, 'vassals');
    await mkdir(vassals);
    await writeFile(path.join(vassals, 'one.ini'), sleeperIni());
    await writeFile(path.join(vassals, 'two.ini'), sleeperIni());
    emperor = new EmperorProcess(['--emperor', vassals, ...EVENTS_ONLY]);
    await ready(emperor, 'one.ini');
    await ready(emperor, 'two.ini');
    const firstPids = emperor.spawnedPids();

    await rm(vassals, { recursive: true });
    await emperor.waitForLog((r) => r.event === 'vassal.stopped' && r.vassal === 'one.ini');
    await emperor.waitForLog((r) => r.event === 'vassal.stopped' && r.vassal === 'two.ini');
    await emperor.waitForLog((r) => r.event === 'emperor.dir-missing');
    await vi.waitFor(() => expect(firstPids.filter(isAlive)).toEqual([]), { timeout: 10_000 });

    await mkdir(vassals);
    await writeFile(path.join(vassals, 'two.ini'), sleeperIni({ env: 'AGAIN=1' }));
    await writeFile(path.join(vassals, 'three.ini'), sleeperIni());
    await ready(emperor, 'three.ini');
    await ready(emperor, 'two.ini', 2);
    expect(actions(emperor, 'one.ini')).toEqual({ start: 1, reload: 0, scale: 0, stop: 1 });
    expect(actions(emperor, 'two.ini')).toEqual({ start: 2, reload: 0, scale: 0, stop: 1 });
    expect(plannedFor(emperor, path.join(vassals, 'one.ini'))).toEqual(['start', 'stop']);
    expect(existsSync(path.join(vassals, 'one.ini'))).toBe(false);
  });

  it('swapped (mv vassals vassals.old; mv vassals.new vassals): vassals follow the new directory by content', async () => {
    const vassals = path.join(dir.path, 'vassals');
    const next = path.join(dir.path, 'vassals.new');
    await mkdir(vassals);
    await mkdir(next);
    await writeFile(path.join(vassals, 'same.ini'), sleeperIni());
    await writeFile(path.join(vassals, 'changed.ini'), sleeperIni({ env: 'V=1' }));
    await writeFile(path.join(vassals, 'gone.ini'), sleeperIni());
    await writeFile(path.join(next, 'same.ini'), sleeperIni());
    await writeFile(path.join(next, 'changed.ini'), sleeperIni({ env: 'V=2' }));
    await writeFile(path.join(next, 'new.ini'), sleeperIni());
    emperor = new EmperorProcess(['--emperor', vassals, ...EVENTS_ONLY]);
    for (const name of ['same.ini', 'changed.ini', 'gone.ini']) await ready(emperor, name);

    await rename(vassals, path.join(dir.path, 'vassals.old'));
    await rename(next, vassals);
    await ready(emperor, 'new.ini');
    await emperor.waitForLog((r) => r.event === 'vassal.stopped' && r.vassal === 'gone.ini');
    await emperor.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'changed.ini');
    await markerSeen(emperor, vassals);
    expect(actions(emperor, 'same.ini')).toEqual({ start: 1, reload: 0, scale: 0, stop: 0 });
    expect(actions(emperor, 'changed.ini')).toEqual({ start: 1, reload: 1, scale: 0, stop: 0 });
  });
});
