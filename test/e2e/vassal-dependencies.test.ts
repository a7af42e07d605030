// A vassal's identity covers every file its config read: an edit of an include, of a for-readline list, of the
// emperor's vassals-include template reloads each vassal that read it, once; a touch of such a file does not.
import { chmod, chown, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { EmperorProcess } from '../support/emperor.js';
import { sandbox } from '../support/sandbox.js';
import { isRoot, TEST_USER, testAccount, type TestAccount } from '../support/test-users.js';
import { actions } from '../support/vassal-dir.js';

const dir = sandbox();

/** A vassal of one sleeping worker whose file holds `lines` after its command. */
function vassal(...lines: string[]): string {
  return ['[uwsgi]', 'command = /bin/sleep 3600', 'ready-after = 0', ...lines, ''].join('\n');
}

async function vassalDir(): Promise<string> {
  const vassals = dir.file('vassals');
  await mkdir(vassals);
  return vassals;
}

const reloadsOf = (e: EmperorProcess, name: string): number => actions(e, name).reload;

/**
 * Gives an included file new content in one step (written beside it, then renamed over it). writeFile truncates
 * first: on a loaded machine the write can come more than the settle time after the truncation, and the emperor then
 * rightly reads an empty include, which is not what these tests are about (a slow writer is the documented limit).
 */
async function replaceWhole(file: string, text: string): Promise<void> {
  await writeFile(`${file}.new`, text);
  await rename(`${file}.new`, file);
}

describe('dependencies of a vassal', () => {
  it('an edit of an include shared by two vassals reloads each once, one at a time with emperor-reload-concurrency = 1', async () => {
    const vassals = await vassalDir();
    const common = dir.file('common.ini');
    await writeFile(common, '[uwsgi]\nenv = COLOR=blue\n');
    await writeFile(path.join(vassals, 'a.ini'), vassal(`ini = ${common}`));
    await writeFile(path.join(vassals, 'b.ini'), vassal(`ini = ${common}`));
    await writeFile(path.join(vassals, 'c.ini'), vassal());
    const e = new EmperorProcess(['--emperor', vassals, '--emperor-reload-concurrency', '1']);
    for (const name of ['a.ini', 'b.ini', 'c.ini']) await e.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === name);

    await replaceWhole(common, '[uwsgi]\nenv = COLOR=green\n');
    await vi.waitFor(() => expect([reloadsOf(e, 'a.ini'), reloadsOf(e, 'b.ini')]).toEqual([1, 1]), { timeout: 20_000 });
    for (const name of ['a.ini', 'b.ini']) {
      expect(e.events('vassal.reload', name)[0]?.reason).toBe(`${common} changed`);
      await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === name);
    }
    // One at a time: the second roll began after the first was done.
    const order = e.records.filter((r) => (r.event === 'vassal.reload' || r.event === 'vassal.reloaded') && r.vassal !== 'c.ini').map((r) => r.event);
    expect(order).toEqual(['vassal.reload', 'vassal.reloaded', 'vassal.reload', 'vassal.reloaded']);
    expect(reloadsOf(e, 'c.ini')).toBe(0);
    // The new value reached the workers.
    const [worker] = e.events('worker.ready', 'a.ini').slice(-1);
    await vi.waitFor(() => expect(readFile(`/proc/${worker!.pid}/environ`, 'utf8')).resolves.toContain('COLOR=green'));
  });

  it('a touch of an include, or a rewrite with the same text, reloads nothing and says so', async () => {
    const vassals = await vassalDir();
    const common = dir.file('common.ini');
    await writeFile(common, '[uwsgi]\nenv = COLOR=blue\n');
    await writeFile(path.join(vassals, 'a.ini'), vassal(`ini = ${common}`));
    const e = new EmperorProcess(['--emperor', vassals]);
    await e.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'a.ini');

    execFileSync('touch', [common]);
    const unchanged = await e.waitForLog((r) => r.event === 'vassal.unchanged' && r.vassal === 'a.ini');
    expect(unchanged.msg).toBe(`vassal a.ini: ${common} changed on disk, but not what its config reads: nothing to do`);
    // The plan never claimed a reload: it said the config would be read again.
    const plan = e.events('emperor.sync').find((r) => (r.check as string[] | undefined)?.length);
    expect(plan).toMatchObject({ reload: [], check: [path.join(vassals, 'a.ini')] });
    expect(plan?.msg).toContain('0 to reload, 0 to stop, 1 to read again (something their config read changed)');
    await writeFile(common, '[uwsgi]\nenv = COLOR=blue\n');
    await vi.waitFor(() => expect(e.events('vassal.unchanged', 'a.ini').length).toBeGreaterThanOrEqual(2), { timeout: 20_000 });
    expect(reloadsOf(e, 'a.ini')).toBe(0);
  });

  it('an edit of a for-readline list and of an @(file) value reloads the vassal that read it', async () => {
    const vassals = await vassalDir();
    const envs = dir.file('.envs');
    const token = dir.file('token');
    await writeFile(envs, 'A=1\nB=2\n');
    await writeFile(token, 'first');
    await writeFile(path.join(vassals, 'app.ini'), vassal(`for-readline = ${envs}`, 'env = %(_)', 'endfor =', `env = TOKEN=@(${token})`));
    const e = new EmperorProcess(['--emperor', vassals]);
    await e.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'app.ini');

    await replaceWhole(envs, 'A=1\nB=3\n');
    await vi.waitFor(() => expect(reloadsOf(e, 'app.ini')).toBe(1), { timeout: 20_000 });
    expect(e.events('vassal.reload', 'app.ini')[0]?.reason).toBe(`${envs} changed`);
    await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.generation === 2);

    await replaceWhole(token, 'second');
    await vi.waitFor(() => expect(reloadsOf(e, 'app.ini')).toBe(2), { timeout: 20_000 });
    expect(e.events('vassal.reload', 'app.ini')[1]?.reason).toBe(`${token} changed`);
  });

  it("an edit of the emperor's vassals-include template reloads every vassal", async () => {
    const vassals = await vassalDir();
    const template = dir.file('template.ini');
    await writeFile(template, '[uwsgi]\nenv = FROM_TEMPLATE=1\n');
    await writeFile(path.join(vassals, 'a.ini'), vassal());
    await writeFile(path.join(vassals, 'b.ini'), vassal());
    const e = new EmperorProcess(['--emperor', vassals, '--vassals-include', template]);
    for (const name of ['a.ini', 'b.ini']) await e.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === name);

    await replaceWhole(template, '[uwsgi]\nenv = FROM_TEMPLATE=2\n');
    await vi.waitFor(() => expect([reloadsOf(e, 'a.ini'), reloadsOf(e, 'b.ini')]).toEqual([1, 1]), { timeout: 20_000 });
    expect(e.events('vassal.reload').map((r) => r.reason)).toEqual([`${template} changed`, `${template} changed`]);
  });

  it("a broken edit of an include is reported at the include's file:line, and the running version is kept", async () => {
    const vassals = await vassalDir();
    const common = dir.file('common.ini');
    await writeFile(common, '[uwsgi]\nprocesses = 1\n');
    await writeFile(path.join(vassals, 'app.ini'), vassal(`ini = ${common}`));
    const e = new EmperorProcess(['--emperor', vassals]);
    await e.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'app.ini');
    const [pid] = e.spawnedPids('app.ini');

    await replaceWhole(common, '[uwsgi]\n; one more\nprocesses = two\n');
    const error = await e.waitForLog((r) => r.event === 'config.diagnostic' && r.severity === 'error');
    expect(error.msg).toBe(`${common}:3: error: invalid value for processes: expected an integer (workers), got "two"`);
    await e.waitForLog((r) => r.event === 'vassal.config-error' && r.vassal === 'app.ini');
    expect(e.spawnedPids('app.ini')).toEqual([pid]);
    expect(reloadsOf(e, 'app.ini')).toBe(0);

    // Fixed: it reloads to what the include now says.
    await replaceWhole(common, '[uwsgi]\nprocesses = 2\n');
    await vi.waitFor(() => expect(e.events('vassal.scale', 'app.ini')).toHaveLength(1), { timeout: 20_000 });
  });

  it('a missing include that appears later starts the vassal, without a change of the vassal file', async () => {
    const vassals = await vassalDir();
    const later = dir.file('later.ini');
    await writeFile(path.join(vassals, 'app.ini'), vassal(`ini = ${later}`));
    const e = new EmperorProcess(['--emperor', vassals]);
    await e.waitForLog((r) => r.event === 'vassal.config-error' && r.vassal === 'app.ini');
    await writeFile(later, '[uwsgi]\nenv = LATE=1\n');
    await e.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'app.ini');
    expect(actions(e, 'app.ini').start).toBe(1);
  });
});

describe.skipIf(!isRoot)('dependencies in tyrant mode', () => {
  let tenant: TestAccount;
  beforeAll(() => {
    tenant = testAccount(TEST_USER);
  });

  it("an edit of a tenant's include reloads its vassal, read again as the tenant", async () => {
    await chmod(dir.path, 0o755);
    const vassals = await vassalDir();
    const own = dir.file('tenant');
    await mkdir(own);
    await chown(own, tenant.uid, tenant.gid);
    const common = path.join(own, 'common.ini');
    await writeFile(common, '[uwsgi]\nenv = COLOR=blue\n');
    await chown(common, tenant.uid, tenant.gid);
    const file = path.join(vassals, 'app.ini');
    await writeFile(file, vassal(`ini = ${common}`));
    await chown(file, tenant.uid, tenant.gid);
    const e = new EmperorProcess(['--emperor', vassals, '--emperor-tyrant']);
    await e.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'app.ini');

    await writeFile(common, '[uwsgi]\nenv = COLOR=green\n');
    const reload = await e.waitForLog((r) => r.event === 'vassal.reload' && r.vassal === 'app.ini');
    expect(reload.reason).toBe(`${common} changed`);
    expect(e.events('vassal.read-as-owner', 'app.ini').length).toBeGreaterThanOrEqual(2);
  });
});
