import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EmperorLocks,
  LockConflict,
  lockKey,
  lockName,
  lockPath,
  pidfileTarget,
  sourceTargets,
  type Squat,
} from '../../src/runtime/emperor-lock.js';
import { sandbox } from '../support/sandbox.js';
import { OTHER_USER, isRoot, testAccount } from '../support/test-users.js';

const dir = sandbox();
const held: EmperorLocks[] = [];
const squatters: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((l) => l.release()));
  for (const s of squatters.splice(0)) s.kill('SIGKILL');
});

async function acquire(...args: Parameters<typeof EmperorLocks.acquire>): Promise<EmperorLocks> {
  const locks = await EmperorLocks.acquire(...args);
  held.push(locks);
  return locks;
}

describe('what a lock stands for', () => {
  it('is the real path: a symlink, .. and a trailing slash name the same directory; a glob, the directory it starts in', () => {
    mkdirSync(dir.file('vassals'));
    symlinkSync(dir.file('vassals'), dir.file('link'));
    const real = lockPath(dir.file('vassals'));
    expect(lockPath(dir.file('link'))).toBe(real);
    expect(lockPath(`${dir.file('vassals')}/../vassals/`)).toBe(real);
    expect(sourceTargets(`${dir.file('link')}/*.ini`, dir.file('link'), ['.ini'])[0]?.real).toBe(real);
  });

  it('is, for a directory that does not exist yet (emperor-wait), the real path of its nearest ancestor plus the rest', () => {
    mkdirSync(dir.file('a'));
    symlinkSync(dir.file('a'), dir.file('b'));
    expect(lockPath(dir.file('b/missing/deeper'))).toBe(path.join(lockPath(dir.file('a')), 'missing/deeper'));
  });

  it('is, for a source, one lock per name ending of its vassal files, and each shorter ending from a dot on', () => {
    const endings = (exts: string[]): (string | undefined)[] => sourceTargets(dir.path, dir.path, exts).map((t) => t.extension);
    expect(endings(['.ini'])).toEqual(['.ini']);
    expect(endings(['.conf.ini', '.yaml'])).toEqual(['.conf.ini', '.ini', '.yaml']);
    expect(endings(['.ini', '.conf.ini'])).toEqual(['.ini', '.conf.ini']);
  });

  it('is, for a pidfile, its name in the real path of its directory', () => {
    symlinkSync(dir.path, dir.file('here'));
    expect(pidfileTarget(dir.file('here/app.pid')).real).toBe(path.join(lockPath(dir.path), 'app.pid'));
    expect(pidfileTarget(dir.file('here/app.pid')).kind).toBe('pidfile');
  });

  it('has a name nobody can compute without the secret', () => {
    const target = { kind: 'source' as const, real: '/etc/vassals' };
    expect(lockKey(randomBytes(32), target)).not.toBe(lockKey(randomBytes(32), target));
    expect(lockName(lockKey(Buffer.alloc(32), target), 0).startsWith('\0supervisor-')).toBe(true);
  });
});

describe('one holder per lock', () => {
  it('refuses a second holder while the first holds it, naming the holder; free again once released', async () => {
    const secret = randomBytes(32);
    mkdirSync(dir.file('vassals'));
    const first = await acquire([pidfileTarget(dir.file('app.pid')), ...sourceTargets(dir.file('vassals'), dir.file('vassals'), ['.ini'])], secret);
    expect(first.keys).toHaveLength(2);
    const err = await EmperorLocks.acquire(sourceTargets(`${dir.file('vassals')}/*.ini`, dir.file('vassals'), ['.ini']), secret).catch((e: Error) => e);
    expect(err).toBeInstanceOf(LockConflict);
    expect((err as LockConflict).holder).toBe(process.pid);
    expect((err as Error).message).toBe(`emperor ${process.pid} already runs on ${dir.file('vassals')}/*.ini (${dir.file('vassals')}, its .ini files)`);
    const onPidfile = await EmperorLocks.acquire([pidfileTarget(dir.file('app.pid'))], secret).catch((e: Error) => e);
    expect((onPidfile as Error).message).toBe(`emperor ${process.pid} already holds pidfile ${dir.file('app.pid')}`);
    await first.release();
    await acquire([pidfileTarget(dir.file('app.pid'))], secret);
  });

  it('lets emperors on one directory for different vassal endings (.ini, .conf) run, but not .ini and .conf.ini', async () => {
    const secret = randomBytes(32);
    await acquire(sourceTargets(dir.path, dir.path, ['.ini']), secret);
    await acquire(sourceTargets(`${dir.path}/*.conf`, dir.path, ['.conf']), secret);
    await expect(EmperorLocks.acquire(sourceTargets(dir.path, dir.path, ['.conf.ini']), secret)).rejects.toThrow(`(its .ini files)`);
  });

  it('takes none when one is held: the ones taken before are let go', async () => {
    const secret = randomBytes(32);
    await acquire([pidfileTarget(dir.file('b.pid'))], secret);
    await expect(EmperorLocks.acquire([pidfileTarget(dir.file('a.pid')), pidfileTarget(dir.file('b.pid'))], secret)).rejects.toBeInstanceOf(LockConflict);
    await acquire([pidfileTarget(dir.file('a.pid'))], secret);
  });
});

describe.runIf(isRoot)('a lock name squatted by another user', () => {
  /** A process of OTHER_USER listening on `name`, answering connections with `claim` (a pid, true or not). */
  async function squat(name: string, claim: number): Promise<ChildProcess> {
    const other = testAccount(OTHER_USER);
    const script = "const s=require('net').createServer(c=>c.end(process.argv[2]+'\\n'));s.listen('\\0'+process.argv[1],()=>console.log('up'))";
    const child = spawn('/usr/bin/setpriv', ['--reuid', String(other.uid), '--regid', String(other.gid), '--clear-groups', '--', process.execPath, '-e', script, name.slice(1), String(claim)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    squatters.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`squatter exited with ${code}`)));
    });
    return child;
  }

  it('is skipped for the next slot and reported, with the squatter known from the kernel even when it lies about its pid', async () => {
    const secret = randomBytes(32);
    const target = pidfileTarget(dir.file('app.pid'));
    // It claims to be this very process: only the kernel's view (who has the socket open) tells.
    const squatter = await squat(lockName(lockKey(secret, target), 0), process.pid);
    const squats: Squat[] = [];
    await acquire([target], secret, { onSquat: (s) => squats.push(s) });
    expect(squats).toEqual([{ target, slot: 0, pid: squatter.pid, uid: testAccount(OTHER_USER).uid }]);

    // A second emperor finds the first one behind the squatted slot.
    await expect(EmperorLocks.acquire([target], secret)).rejects.toThrow(`emperor ${process.pid} already holds pidfile`);
    // Once the squatter is gone, slot 0 is free, but the first emperor still holds slot 1.
    squatter.kill('SIGKILL');
    await vi.waitFor(() => expect(squatter.exitCode ?? squatter.signalCode).not.toBeNull());
    await expect(EmperorLocks.acquire([target], secret)).rejects.toBeInstanceOf(LockConflict);
  });
});
