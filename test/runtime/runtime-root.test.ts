import { chmodSync, chownSync, mkdirSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runtimeRootFor, type Inspect } from '../../src/runtime/runtime-place.js';
import { unsafeRuntimeRoot } from '../../src/runtime/runtime-root.js';
import { sandbox } from '../support/sandbox.js';
import { OTHER_USER, TEST_USER, isRoot, testAccount } from '../support/test-users.js';

const dir = sandbox();

describe('where the runtime directory is', () => {
  const dirs = (entries: Record<string, { uid: number; mode: number; isDirectory?: boolean }>): Inspect => (p) => {
    const e = entries[p];
    return e && { uid: e.uid, mode: e.mode, isDirectory: e.isDirectory ?? true };
  };

  it('is /run/supervisor for root, whatever the environment says', () => {
    expect(runtimeRootFor(0, { XDG_RUNTIME_DIR: '/run/user/0' }, '/root', dirs({})).path).toBe('/run/supervisor');
    expect(runtimeRootFor(0, {}, '/root', dirs({})).mode).toBe(0o755);
  });

  it("is $XDG_RUNTIME_DIR/supervisor for another user, only if that directory is theirs and closed to others", () => {
    const home = '/home/u';
    expect(runtimeRootFor(1000, { XDG_RUNTIME_DIR: '/run/user/1000' }, home, dirs({ '/run/user/1000': { uid: 1000, mode: 0o40700 } }))).toEqual({
      path: '/run/user/1000/supervisor',
      mode: 0o700,
      skipped: [],
    });
    const shared = runtimeRootFor(1000, { XDG_RUNTIME_DIR: '/srv/rt' }, home, dirs({ '/srv/rt': { uid: 1000, mode: 0o40755 } }));
    expect(shared.path).toBe('/home/u/.cache/supervisor');
    expect(shared.skipped[0]).toMatch(/XDG_RUNTIME_DIR=\/srv\/rt: open to other users \(mode 755\)/);
    const foreign = runtimeRootFor(1000, { XDG_RUNTIME_DIR: '/srv/rt' }, home, dirs({ '/srv/rt': { uid: 1001, mode: 0o40700 } }));
    expect(foreign.skipped[0]).toMatch(/owned by uid 1001/);
    const relative = runtimeRootFor(1000, { XDG_RUNTIME_DIR: 'rt' }, home, dirs({}));
    expect(relative.skipped[0]).toMatch(/not an absolute path/);
  });

  it('falls back to /run/user/UID, then to $HOME/.cache/supervisor; never /tmp', () => {
    expect(runtimeRootFor(1000, {}, '/home/u', dirs({ '/run/user/1000': { uid: 1000, mode: 0o40700 } })).path).toBe('/run/user/1000/supervisor');
    expect(runtimeRootFor(1000, {}, '/home/u', dirs({})).path).toBe('/home/u/.cache/supervisor');
    expect(() => runtimeRootFor(1000, {}, undefined, dirs({}))).toThrow(/no runtime directory for uid 1000/);
  });
});

describe.runIf(isRoot)('a runtime directory is used only if nobody else can change it', () => {
  const made = (name: string, mode: number, owner = 0): string => {
    const p = dir.file(name);
    mkdirSync(p);
    chmodSync(p, mode);
    chownSync(p, owner, owner === 0 ? 0 : testAccount(TEST_USER).gid);
    return p;
  };

  it('accepts a real directory of ours, writable by nobody else, under directories of root or ours', () => {
    chmodSync(dir.path, 0o755);
    expect(unsafeRuntimeRoot(made('root', 0o755), 0)).toBeUndefined();
    const user = testAccount(TEST_USER);
    expect(unsafeRuntimeRoot(made('user', 0o700, user.uid), user.uid)).toBeUndefined();
  });

  it('refuses a symlink, a group- or world-writable directory, and one owned by someone else', () => {
    const real = made('real', 0o755);
    symlinkSync(real, dir.file('link'));
    expect(unsafeRuntimeRoot(dir.file('link'), 0)).toMatch(/is a symlink/);
    expect(unsafeRuntimeRoot(made('group', 0o775), 0)).toMatch(/writable by other users \(mode 775\)/);
    expect(unsafeRuntimeRoot(made('world', 0o757), 0)).toMatch(/writable by other users/);
    expect(unsafeRuntimeRoot(made('theirs', 0o755, testAccount(TEST_USER).uid), 0)).toMatch(/owned by uid \d+, not 0/);
    expect(unsafeRuntimeRoot(dir.file('missing'), 0)).toMatch(/ENOENT/);
  });

  it('refuses one whose parent someone else could rename it in: writable by others (not sticky), or owned by another user', () => {
    const open = made('open', 0o777);
    mkdirSync(`${open}/rt`, 0o755);
    expect(unsafeRuntimeRoot(`${open}/rt`, 0)).toMatch(/open \(above .*\) is writable by other users \(mode 777\)/);
    const sticky = made('sticky', 0o1777);
    mkdirSync(`${sticky}/rt`, 0o755);
    expect(unsafeRuntimeRoot(`${sticky}/rt`, 0)).toBeUndefined();
    const other = testAccount(OTHER_USER);
    const theirs = made('theirs-parent', 0o755, other.uid);
    mkdirSync(`${theirs}/rt`, 0o755);
    expect(unsafeRuntimeRoot(`${theirs}/rt`, 0)).toMatch(/above .* is owned by uid/);
  });
});
