// Tyrant mode as a boundary: everything a tenant's vassal config reads is read with the tenant's rights and
// environment (a reader process that drops privileges before it reads), never the emperor's (root). Needs root.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { chmod, chown, lchown, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmperorProcess, NODE, type LogRecord } from '../support/emperor.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { isRoot, OTHER_USER, TEST_USER, testAccount, type TestAccount } from '../support/test-users.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root to change users]';
if (skipReason) console.warn(`tenant boundary tests${skipReason}`);

const dir = sandbox();
let tenant: TestAccount;
let other: TestAccount;
const extra: ChildProcess[] = [];

beforeAll(() => {
  if (!isRoot) return;
  tenant = testAccount(TEST_USER);
  other = testAccount(OTHER_USER);
});

beforeEach(async () => {
  // The tenant's workers start in the vassal file's directory: the tenant must be able to enter it.
  await chmod(dir.path, 0o755);
});

afterEach(() => {
  for (const child of extra.splice(0)) child.kill('SIGKILL');
});

/** A cheap vassal body (no Node start), followed by `lines`. */
function vassal(...lines: string[]): string {
  return ['[uwsgi]', 'command = /bin/sleep 3600', 'ready-after = 0', ...lines].join('\n') + '\n';
}

/** Writes a vassal file owned by `owner` (the tenant by default), mode 0644, in `where` (the sandbox by default). */
async function tenantFile(name: string, text: string, owner: TestAccount = tenant, where = dir.path): Promise<string> {
  const file = path.join(where, name);
  await writeFile(file, text, { mode: 0o644 });
  await chown(file, owner.uid, owner.gid);
  return file;
}

/** A directory only root can enter (0700), with `files` in it (root's, mode 0600). */
async function rootOnly(files: Record<string, string> = {}): Promise<string> {
  const vault = dir.file('vault');
  await mkdir(vault, { mode: 0o700 });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(vault, name), content, { mode: 0o600 });
  return vault;
}

/** 1-based line of `file` that starts with `prefix`. */
function lineOf(file: string, prefix: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith(prefix)) + 1;
}

/** The environment a process started with. */
function environ(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/**
 * Environment of the first worker of `vassal`, once its program (/bin/sleep, see vassal()) runs: until then the pid
 * is the emperor's fork, then the exec chain (setpriv, the setup shell), whose environment is not the worker's.
 */
async function workerEnv(emperor: EmperorProcess, name: string): Promise<Record<string, string>> {
  const pid = await vi.waitFor(
    () => {
      const [first] = emperor.spawnedPids(name);
      if (first === undefined) throw new Error(`no worker of ${name} yet`);
      // Until then it is the emperor's fork, setpriv, then the setup shell: none has the worker's environment.
      const argv0 = readFileSync(`/proc/${first}/cmdline`, 'utf8').split('\0')[0];
      if (argv0 !== '/bin/sleep') throw new Error(`worker ${first} of ${name} is still in its exec chain (${argv0})`);
      return first;
    },
    { timeout: 20_000, interval: 20 },
  );
  return environ(pid);
}

/** The first error finding about `file`. */
function refusal(emperor: EmperorProcess, file: string): Promise<LogRecord> {
  return emperor.waitForLog((r) => r.event === 'config.diagnostic' && r.severity === 'error' && r.file === file);
}

/** Everything the emperor wrote: its log and stderr. */
function everythingLogged(emperor: EmperorProcess): string {
  return JSON.stringify(emperor.records) + emperor.stderr.join('');
}

function tyrant(...dirs: string[]): EmperorProcess {
  return new EmperorProcess([...(dirs.length ? dirs : [dir.path]).flatMap((d) => ['--emperor', d]), '--emperor-tyrant']);
}

describe.skipIf(!isRoot)(`tyrant mode reads as the tenant${skipReason}`, () => {
  it('ini = a root-only file is refused at file:line, and nothing of it reaches the log or a worker', async () => {
    const secret = 'leak-7d1f0c';
    const vault = await rootOnly({ 'inc.ini': `[uwsgi]\nenv = LEAK=${secret}\n` });
    // Also a file root could read in a directory the tenant may enter: mode 0600 alone must keep it out.
    await writeFile(dir.file('open-dir-secret.ini'), `[uwsgi]\nenv = LEAK2=${secret}\n`, { mode: 0o600 });
    const file = await tenantFile('leak.ini', vassal(`ini = ${vault}/inc.ini`));
    const file2 = await tenantFile('leak2.ini', vassal(`ini = ${dir.file('open-dir-secret.ini')}`));
    const emperor = tyrant();

    const refused = await refusal(emperor, file);
    expect(refused.msg).toContain(`${file}:${lineOf(file, 'ini =')}: error: cannot read ini = ${vault}/inc.ini`);
    expect(refused.msg).toMatch(/permission denied/i);
    expect(refused.msg).toContain(`uid ${tenant.uid}`);
    const refused2 = await refusal(emperor, file2);
    expect(refused2.msg).toContain(`${file2}:${lineOf(file2, 'ini =')}: error: cannot read ini = `);
    expect(refused2.msg).toMatch(/permission denied/i);
    expect(emperor.spawnedPids()).toEqual([]);
    expect(everythingLogged(emperor)).not.toContain(secret);
  });

  it('env = T=@(root-only token) is refused at file:line; the token is never read', async () => {
    const token = 'token-93be11';
    const vault = await rootOnly({ token });
    const file = await tenantFile('token.ini', vassal(`env = T=@(${vault}/token)`));
    const emperor = tyrant();

    const refused = await refusal(emperor, file);
    expect(refused.msg).toContain(`${file}:${lineOf(file, 'env =')}: error: invalid value for env: @(${vault}/token): cannot read ${vault}/token`);
    expect(refused.msg).toMatch(/permission denied/i);
    expect(emperor.spawnedPids()).toEqual([]);
    expect(everythingLogged(emperor)).not.toContain(token);
  });

  it('for-readline over a root-only file and for-glob over a root-only directory see nothing of them', async () => {
    const vault = await rootOnly({ 'names.txt': 'line-secret-a1\nline-secret-b2\n', 'file-name-secret-c3': '' });
    const readline = await tenantFile('readline.ini', vassal(`for-readline = ${vault}/names.txt`, 'env = L_%(_)=1', 'endfor ='));
    await tenantFile('glob.ini', vassal(`for-glob = ${vault}/*`, 'env = GLOB=%(_)', 'endfor ='));
    const emperor = tyrant();

    const refused = await refusal(emperor, readline);
    expect(refused.msg).toContain(`${readline}:${lineOf(readline, 'for-readline')}: error: for-readline = ${vault}/names.txt: cannot read ${vault}/names.txt`);
    expect(refused.msg).toMatch(/permission denied/i);
    // The tenant cannot list the directory: like a glob that matches nothing, the item is the pattern itself.
    const env = await workerEnv(emperor, 'glob.ini');
    expect(env.GLOB).toBe(`${vault}/*`);
    expect(emperor.spawnedPids('readline.ini')).toEqual([]);
    const logged = everythingLogged(emperor);
    for (const secret of ['line-secret-a1', 'line-secret-b2', 'file-name-secret-c3']) {
      expect(logged).not.toContain(secret);
      expect(JSON.stringify(env)).not.toContain(secret);
    }
  });

  it('if-exists is evaluated as the tenant sees the file system', async () => {
    const vault = await rootOnly({ flag: '' });
    await tenantFile('probe.ini', vassal(`if-exists = ${vault}/flag`, 'env = SEEN=present', 'else =', 'env = SEEN=absent', 'endif ='));
    const emperor = tyrant();
    expect((await workerEnv(emperor, 'probe.ini')).SEEN).toBe('absent');
  });

  it('$(VAR) resolves against the tenant\'s environment, never the emperor\'s', async () => {
    await tenantFile('vars.ini', vassal('env = S=$(ROOT_SECRET:-unset)', 'env = H=$(HOME)', 'env = U=$(USER)', 'env = W=%U'));
    const secret = 'root-secret-5a0e';
    const emperor = new EmperorProcess(['--emperor', dir.path, '--emperor-tyrant'], { env: { ROOT_SECRET: secret, HOME: '/root', USER: 'root' } });
    const env = await workerEnv(emperor, 'vars.ini');
    expect({ S: env.S, H: env.H, U: env.U, W: env.W }).toEqual({ S: 'unset', H: '/nonexistent', U: TEST_USER, W: TEST_USER });
    expect(everythingLogged(emperor)).not.toContain(secret);
  });

  it('chdir to a directory the tenant cannot enter is refused at file:line, and no worker starts', async () => {
    const vault = await rootOnly();
    const file = await tenantFile('cd.ini', vassal(`chdir = ${vault}`));
    const emperor = tyrant();
    const refused = await refusal(emperor, file);
    expect(refused.msg).toBe(`${file}:${lineOf(file, 'chdir')}: error: chdir ${vault}: permission denied for uid ${tenant.uid}`);
    expect(emperor.spawnedPids()).toEqual([]);
  });

  it('touch-reload of a path the tenant cannot see is refused at file:line', async () => {
    const vault = await rootOnly({ stamp: '' });
    const file = await tenantFile('touch.ini', vassal('touch-reload = /tmp', `touch-reload = ${vault}/stamp`, `touch-reload = ${dir.file('not-yet')}`));
    const emperor = tyrant();
    const refused = await refusal(emperor, file);
    expect(refused.msg).toBe(
      `${file}:${lineOf(file, `touch-reload = ${vault}`)}: error: touch-reload ${vault}/stamp: permission denied for uid ${tenant.uid}; the emperor watches only what the vassal's user can see`,
    );
    expect(emperor.events('config.diagnostic').filter((r) => r.severity === 'error')).toHaveLength(1);
    expect(emperor.spawnedPids()).toEqual([]);
  });

  it('touch-logreopen and touch-logrotate of a path the tenant cannot see are refused at file:line too', async () => {
    const vault = await rootOnly({ stamp: '' });
    const log = `logto = ${dir.file('tenant.log')}`;
    const reopen = await tenantFile('reopen.ini', vassal(log, `touch-logreopen = ${vault}/stamp`));
    const rotate = await tenantFile('rotate.ini', vassal(log, `touch-logrotate = ${vault}/stamp`));
    const emperor = tyrant();
    expect((await refusal(emperor, reopen)).msg).toBe(
      `${reopen}:${lineOf(reopen, 'touch-logreopen')}: error: touch-logreopen ${vault}/stamp: permission denied for uid ${tenant.uid}; the emperor watches only what the vassal's user can see`,
    );
    expect((await refusal(emperor, rotate)).msg).toBe(
      `${rotate}:${lineOf(rotate, 'touch-logrotate')}: error: touch-logrotate ${vault}/stamp: permission denied for uid ${tenant.uid}; the emperor watches only what the vassal's user can see`,
    );
    expect(emperor.spawnedPids()).toEqual([]);
  });

  it('vassals-include templates are read as the tenant too', async () => {
    const vault = await rootOnly({ 'template.ini': '[uwsgi]\nenv = TEMPLATE=template-secret-88\n' });
    const vassals = dir.file('vassals');
    await mkdir(vassals, { mode: 0o755 });
    await tenantFile('t.ini', vassal(), tenant, vassals);
    const emperor = new EmperorProcess(['--emperor', vassals, '--emperor-tyrant', '--vassals-include', `${vault}/template.ini`]);
    // The template is named on the emperor's command line: the finding is located there.
    const refused = await emperor.waitForLog((r) => r.event === 'config.diagnostic' && r.severity === 'error');
    expect(refused.msg).toContain(`cannot read vassals-include ${vault}/template.ini`);
    expect(refused.msg).toMatch(/permission denied/i);
    await emperor.waitForLog((r) => r.event === 'vassal.config-error' && r.vassal === 't.ini');
    expect(emperor.spawnedPids()).toEqual([]);
    expect(everythingLogged(emperor)).not.toContain('template-secret-88');
  });
});

describe.skipIf(!isRoot)(`tyrant mode: whose files may run${skipReason}`, () => {
  it('refuses a vassal file whose directories someone else may write, naming the directory; a sticky root-owned one is fine', async () => {
    const open = dir.file('open');
    const sticky = dir.file('sticky');
    const others = dir.file('others');
    const links = dir.file('links');
    for (const d of [open, sticky, others, links]) await mkdir(d);
    await chmod(open, 0o777);
    await chmod(sticky, 0o1777);
    await chmod(links, 0o755);
    await chmod(others, 0o755);
    await chown(others, other.uid, other.gid);
    const inOpen = await tenantFile('a.ini', vassal(), tenant, open);
    await tenantFile('b.ini', vassal(), tenant, sticky);
    const inOthers = await tenantFile('c.ini', vassal(), tenant, others);
    // A symlinked vassal is judged by its target's directories: a link in a safe directory into an open one.
    const target = await tenantFile('target.ini.real', vassal(), tenant, open);
    const link = path.join(links, 'd.ini');
    await symlink(target, link);
    await lchown(link, tenant.uid, tenant.gid);
    const emperor = tyrant(open, sticky, others, links);

    await vi.waitFor(() => expect(emperor.spawnedPids('b.ini').length).toBeGreaterThan(0), { timeout: 20_000 });
    expect((await refusal(emperor, inOpen)).msg).toBe(
      `${inOpen}: error: emperor-tyrant: the directory ${open} is writable by its group and others (mode 777), who could replace the vassal file; only root and the file's owner may write the directories above it (a world-writable one only if it is sticky and owned by root, like /tmp)`,
    );
    expect((await refusal(emperor, inOthers)).msg).toBe(
      `${inOthers}: error: emperor-tyrant: the directory ${others} belongs to uid ${other.uid}, who could replace the vassal file; every directory above a tenant's vassal file must belong to root or to the file's owner (uid ${tenant.uid})`,
    );
    expect((await refusal(emperor, link)).msg).toContain(`emperor-tyrant: the directory ${open} is writable by its group and others`);
    for (const name of ['a.ini', 'c.ini', 'd.ini']) expect(emperor.spawnedPids(name)).toEqual([]);
  });

  it('refuses gid 0: a tenant file whose group is root, and gid = 0 / root', async () => {
    const rootGroup = await tenantFile('rootgroup.ini', vassal());
    await chown(rootGroup, tenant.uid, 0);
    const asks = await tenantFile('asks.ini', vassal('gid = 0'));
    const asksByName = await tenantFile('asks-name.ini', vassal('gid = root'));
    const emperor = tyrant();
    expect((await refusal(emperor, rootGroup)).msg).toBe(
      `${rootGroup}: error: emperor-tyrant: the file's group is root (gid 0), and tyrant mode never runs a vassal with group root; chgrp it to a group of its owner`,
    );
    expect((await refusal(emperor, asks)).msg).toBe(`${asks}:${lineOf(asks, 'gid')}: error: emperor-tyrant: gid = 0 is group root, and tyrant mode never runs a vassal with group root`);
    expect((await refusal(emperor, asksByName)).msg).toBe(
      `${asksByName}:${lineOf(asksByName, 'gid')}: error: emperor-tyrant: gid = root is group root, and tyrant mode never runs a vassal with group root`,
    );
    expect(emperor.spawnedPids()).toEqual([]);
  });
});

/**
 * As the tenant: sends a signal (argv[1]: SIGKILL, SIGSTOP) to every config reader running as the tenant as soon as
 * it appears, after trying to read its environment through /proc (which needs ptrace access). Prints one JSON line
 * per reader: pid, whether /proc let it in. Only readers of this test's emperor (one whose command line names
 * argv[2], the test's directory): test files run in parallel, and another file's emperor may be reading a file of the
 * same tenant (seen: a reader of config-retry's emperor stopped, and this test's SIGTERM sent to an emperor still
 * starting).
 */
const KILLER = `
const fs = require('fs');
const signal = process.argv[1];
const ours = process.argv[2];
const parentOf = (pid) => { try { const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]); } catch { return 0; } };
const fromOurs = (pid) => {
  for (let p = parentOf(pid), depth = 0; p > 1 && depth < 8; p = parentOf(p), depth++) {
    try { if (fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\\0').includes(ours)) return true; } catch {}
  }
  return false;
};
const seen = new Set();
const pause = new Int32Array(new SharedArrayBuffer(4));
process.stdout.write(JSON.stringify({ ready: true }) + '\\n');
for (;; Atomics.wait(pause, 0, 0, 5)) {
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(p) || seen.has(p)) continue;
    let cmd;
    try { cmd = fs.readFileSync('/proc/' + p + '/cmdline', 'utf8'); } catch { continue; }
    // argv[1] (this script's own command line mentions the name too)
    if (!(cmd.split('\\0')[1] ?? '').endsWith('/reader-child.js')) continue;
    if (!fromOurs(p)) continue;
    let environ = 'readable';
    try { fs.readFileSync('/proc/' + p + '/environ'); } catch (e) { environ = e.code; }
    try { process.kill(Number(p), signal); } catch (e) { continue; }
    seen.add(p);
    process.stdout.write(JSON.stringify({ pid: Number(p), environ }) + '\\n');
  }
}`;

/** Starts KILLER as the tenant with `signal`, for this test's emperor; resolves once it watches, with what it has done so far. */
async function startKiller(signal: NodeJS.Signals): Promise<{ killer: ChildProcess; signalled: () => { pid: number; environ: string }[] }> {
  const killer = spawn('/usr/bin/setpriv', ['--reuid', String(tenant.uid), '--regid', String(tenant.gid), '--clear-groups', NODE, '-e', KILLER, signal, dir.path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  extra.push(killer);
  const said: { pid?: number; environ?: string; ready?: boolean }[] = [];
  killer.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) said.push(JSON.parse(line) as (typeof said)[number]);
  });
  await vi.waitFor(() => expect(said[0]).toEqual({ ready: true }), { timeout: 20_000 });
  return { killer, signalled: () => said.filter((k) => k.pid !== undefined) as { pid: number; environ: string }[] };
}

describe.skipIf(!isRoot)(`tyrant mode: a tenant against its reader${skipReason}`, () => {
  // Enough work after the privilege drop that the tenant's killer sees the reader running as the tenant.
  const loop = ['for-times = 4000', 'set-placeholder = p%(_)=value-%(_)', 'env = V%(_)=%(p%(_))', 'endfor ='];

  it('a reader the tenant kills gives a config error; other vassals are unaffected', async () => {
    const victim = await tenantFile('victim.ini', vassal(...loop));
    await tenantFile('bystander.ini', vassal(), other);
    const { killer, signalled } = await startKiller('SIGKILL');
    const emperor = tyrant();

    const refused = await refusal(emperor, victim);
    expect(refused.msg).toBe(`${victim}: error: emperor-tyrant: reading the config as its owner (uid ${tenant.uid} gid ${tenant.gid}) failed: it was killed by SIGKILL`);
    // The tenant could signal its reader, but not look into it: a process that changed its uid is not dumpable.
    expect(signalled().length).toBeGreaterThan(0);
    for (const k of signalled()) expect(k.environ).toBe('EACCES');
    await vi.waitFor(() => expect(emperor.spawnedPids('bystander.ini').length).toBeGreaterThan(0), { timeout: 20_000 });
    expect(emperor.spawnedPids('victim.ini')).toEqual([]);
    expect(isAlive(emperor.pid)).toBe(true);

    // Once the tenant stops, the vassal is read again (here: after its file changes) and starts.
    killer.kill('SIGKILL');
    await tenantFile('victim.ini', vassal(...loop, 'processes = 1'));
    await vi.waitFor(() => expect(emperor.spawnedPids('victim.ini').length).toBeGreaterThan(0), { timeout: 30_000 });
  });

  it('a reader the tenant stops is killed after 10 s; meanwhile other tenants\' files are read', async () => {
    const victim = await tenantFile('victim.ini', vassal(...loop));
    const { signalled } = await startKiller('SIGSTOP');
    const emperor = tyrant();
    await vi.waitFor(() => expect(signalled().length).toBeGreaterThan(0), { timeout: 20_000 });
    const stoppedAt = Date.now();
    // Another tenant's file, arriving while the stopped reader holds its slot, starts without waiting for it.
    await tenantFile('bystander.ini', vassal(), other);
    await vi.waitFor(() => expect(emperor.spawnedPids('bystander.ini').length).toBeGreaterThan(0), { timeout: 20_000 });
    expect(emperor.events('config.diagnostic').filter((r) => r.file === victim)).toEqual([]);

    const refused = await emperor.waitForLog((r) => r.event === 'config.diagnostic' && r.file === victim, 40_000);
    expect(refused.msg).toBe(
      `${victim}: error: emperor-tyrant: reading the config as its owner (uid ${tenant.uid} gid ${tenant.gid}) failed: it did not finish within 10 s and was killed`,
    );
    expect(Date.now() - stoppedAt).toBeGreaterThan(8000);
    expect(isAlive(signalled()[0]!.pid)).toBe(false);
    expect(emperor.spawnedPids('victim.ini')).toEqual([]);
  });
});

describe.skipIf(!isRoot)(`tyrant mode: stopping${skipReason}`, () => {
  it('a graceful stop kills a reader in flight at once and reports nothing about it', async () => {
    const victim = await tenantFile('victim.ini', vassal('for-times = 4000', 'set-placeholder = p%(_)=value-%(_)', 'env = V%(_)=%(p%(_))', 'endfor ='));
    const { signalled } = await startKiller('SIGSTOP');
    const emperor = tyrant();
    await vi.waitFor(() => expect(signalled().length).toBeGreaterThan(0), { timeout: 20_000 });
    const reader = signalled()[0]!.pid;
    const stoppedAt = Date.now();
    emperor.child.kill('SIGTERM');
    // The stop kills the reader first thing, well within its 10 s time limit (which began before it was stopped):
    // the stop did not wait for the limit. (The emperor's own exit may take longer on a loaded machine.)
    await vi.waitFor(() => expect(isAlive(reader)).toBe(false), { timeout: 20_000, interval: 20 });
    expect(Date.now() - stoppedAt).toBeLessThan(7000);
    expect(await emperor.exit()).toEqual({ code: 0, signal: undefined });
    expect(emperor.events('config.diagnostic').filter((r) => r.file === victim)).toEqual([]);
  });
});

describe.skipIf(!isRoot)(`default mode reads in-process${skipReason}`, () => {
  it('no reader runs without emperor-tyrant: the emperor\'s own config may include root-only files', async () => {
    const vault = await rootOnly({ 'inc.ini': '[uwsgi]\nenv = FROM_ROOT=yes\n' });
    await writeFile(dir.file('root.ini'), vassal(`ini = ${vault}/inc.ini`));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    expect((await workerEnv(emperor, 'root.ini')).FROM_ROOT).toBe('yes');
    expect(emperor.events('vassal.read-as-owner')).toEqual([]);
  });

  it('tyrant mode logs each reader it runs; files of one owner waiting together share a reader', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `app${i}.ini`);
    const files: string[] = [];
    for (const name of names) files.push(await tenantFile(name, vassal()));
    // Every file settled before the emperor looks (emperor-settle, 0.05 s): on a loaded machine the writes can spread
    // over several settle windows, and files that settle one by one are read one by one, which is not what this
    // test is about.
    await vi.waitFor(() => expect(files.filter((f) => Date.now() - statSync(f).ctimeMs < 500)).toEqual([]), { timeout: 10_000, interval: 50 });
    const emperor = tyrant();
    await vi.waitFor(() => expect(new Set(emperor.events('worker.spawn').map((r) => r.vassal))).toEqual(new Set(names)), { timeout: 30_000 });
    const reads = emperor.events('vassal.read-as-owner');
    expect(reads.map((r) => r.vassal).sort()).toEqual([...names].sort());
    for (const r of reads) expect({ uid: r.uid, gid: r.gid, pid: typeof r.pid }).toEqual({ uid: tenant.uid, gid: tenant.gid, pid: 'number' });
    // At most a few readers start at once; the files waiting meanwhile go to one reader together.
    const readers = new Set(reads.map((r) => r.pid));
    expect(readers.size, JSON.stringify(reads.map((r) => [r.vassal, r.pid, r.files, r.queuedMs]))).toBeLessThan(names.length);
    expect(Math.max(...reads.map((r) => r.files as number))).toBeGreaterThan(1);
  });
});
