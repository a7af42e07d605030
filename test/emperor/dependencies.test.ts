import { mkdir, stat, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { stampOf, type Observation } from '../../src/config/recording-host.js';
import { addWatchDirs, dependenciesOf, firstChange, lastChangeMs, NO_DEPENDENCIES } from '../../src/emperor/dependencies.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();

const obs = (kind: Observation['kind'], path: string, seen: string, stamp: string): Observation => ({ kind, path, seen, stamp });

describe('dependencies', () => {
  it('follow what the reading user could see, not what it could not, nor a glob match its listing covers', () => {
    const deps = dependenciesOf([
      obs('read', '/etc/app/common.ini', 'h1', 's1'),
      obs('read', '/root/secret.ini', 'error:permission denied', 'denied'),
      obs('list', '/srv/apps', 'h2', 's2'),
      obs('kind', '/srv/apps/a.conf', 'file', 'file'),
      obs('kind', '/srv/other', 'missing', 'missing'),
      obs('read', '/etc/app/common.ini', 'h1', 's1'),
    ]);
    expect(deps.followed.map((o) => o.path)).toEqual(['/etc/app/common.ini', '/srv/apps', '/srv/other']);
    expect(dependenciesOf([])).toBe(NO_DEPENDENCIES);
  });

  it('the key changes iff what was seen changed', () => {
    const a = dependenciesOf([obs('read', '/x', 'h1', 's1')]);
    expect(dependenciesOf([obs('read', '/x', 'h1', 'other stamp')]).key).toBe(a.key);
    expect(dependenciesOf([obs('read', '/x', 'h2', 's1')]).key).not.toBe(a.key);
  });

  it('firstChange names a path whose stamp changed, prefers it to one only racy, and stats a shared path once', async () => {
    // Files nobody changes: their stamps vouch for their content.
    const env = '/usr/bin/env';
    const sh = '/bin/sh';
    const unchanged = dependenciesOf([obs('read', env, 'h', stampOf('read', env)), obs('read', sh, 'h', stampOf('read', sh))]);
    const stamps = new Map();
    expect(await firstChange(unchanged, stamps)).toBeUndefined();
    expect(stamps.size).toBe(2);
    // The same path in another vassal's dependencies is not looked at again within the sync.
    expect(await firstChange(dependenciesOf([obs('read', env, 'h', stampOf('read', env))]), stamps)).toBeUndefined();
    expect(stamps.size).toBe(2);

    const racyEnv = obs('read', env, 'h', `${stampOf('read', env)}~`);
    expect(await firstChange(dependenciesOf([racyEnv]), new Map())).toBe(env);
    expect(await firstChange(dependenciesOf([racyEnv, obs('read', sh, 'h', 'another stamp')]), new Map())).toBe(sh);
    const file = dir.file('f');
    await writeFile(file, 'one');
    const read = dependenciesOf([obs('read', file, 'h', stampOf('read', file))]);
    await writeFile(file, 'two, longer');
    expect(await firstChange(read, new Map())).toBe(file);
  });

  it('lastChangeMs is the newest ctime of a read file or mtime of a listed directory; missing paths and kinds have none', async () => {
    const file = dir.file('inc.ini');
    const listed = dir.file('apps');
    await writeFile(file, '[uwsgi]\n');
    await mkdir(listed);
    const deps = dependenciesOf([obs('read', file, 'h', 's'), obs('list', listed, 'h', 's'), obs('kind', dir.file('nothing'), 'missing', 'missing')]);
    const [fileSt, dirSt] = await Promise.all([stat(file, { bigint: true }), stat(listed, { bigint: true })]);
    const expected = Number((fileSt.ctimeNs > dirSt.mtimeNs ? fileSt.ctimeNs : dirSt.mtimeNs) / 1_000_000n);
    expect(await lastChangeMs(deps, new Map())).toBe(expected);
    // A later write moves it.
    await writeFile(listed + '/x', '');
    expect(await lastChangeMs(deps, new Map())).toBe(Number((await stat(listed, { bigint: true })).mtimeNs / 1_000_000n));
    expect(await lastChangeMs(dependenciesOf([obs('read', dir.file('gone'), 'h', 's')]), new Map())).toBe(0);
  });

  it('watches the directory of each path, a listed directory itself, and the nearest existing one of a missing path', async () => {
    const deps = dependenciesOf([obs('read', dir.file('inc.ini'), 'h', 's'), obs('list', dir.path, 'h', 's'), obs('kind', dir.file('no/such/dir/x'), 'missing', 'missing')]);
    const into = new Map<string, string>();
    await addWatchDirs(deps, into, new Map());
    expect([...into.keys()]).toEqual([dir.path]);
  });
});
