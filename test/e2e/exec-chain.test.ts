// Needs root (CI runs as root). Attacks on the worker's exec chain from a tenant's vassal file (issue: tyrant mode as
// a security boundary): nothing a vassal sets may change what runs as root, and tenants do not get root's environment.
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmperorProcess } from '../support/emperor.js';
import { ask, pidsAnswering, serveIni } from '../support/serving.js';
import { sandbox } from '../support/sandbox.js';
import { isRoot, TEST_USER, testAccount, type TestAccount } from '../support/test-users.js';

const skipReason = isRoot ? '' : ' [SKIPPED: needs root to change users]';
if (skipReason) console.warn(`exec chain tests${skipReason}`);

const dir = sandbox();
let tenant: TestAccount;

beforeAll(() => {
  if (isRoot) tenant = testAccount(TEST_USER);
});

beforeEach(async () => {
  await chmod(dir.path, 0o755);
  // A tenant's unix socket goes in a directory the tenant may write (it is bound with the tenant's rights).
  if (isRoot) await chown(dir.path, tenant.uid, tenant.gid);
});

/** Writes a vassal file owned by the tenant (tyrant mode runs it as that user). */
async function tenantVassal(name: string, text: string): Promise<string> {
  const file = dir.file(name);
  await writeFile(file, text);
  await chown(file, tenant.uid, tenant.gid);
  return file;
}

/** The environment of a live process, as root reads it from /proc. */
function environOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(entries.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

function hasCompiler(): boolean {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot)(`the worker exec chain${skipReason}`, () => {
  it("runs no program from a tenant's PATH as root: fake setpriv, sh and getent are never executed", async () => {
    const bin = dir.file('bin');
    const marker = dir.file('pwned');
    await mkdir(bin, { mode: 0o755 });
    for (const [name, real] of [['setpriv', '/usr/bin/setpriv'], ['sh', '/bin/sh'], ['getent', '/usr/bin/getent']]) {
      // Each fake records who ran it, then does the real job, so the worker would still start on the old code.
      await writeFile(`${bin}/${name}`, `#!/bin/sh\necho "$(id -u) ${name}" >> ${marker}\nexec ${real} "$@"\n`, { mode: 0o755 });
    }
    await tenantVassal('app.ini', serveIni('app.sock', { processes: 1, env: [`PATH=${bin}:/usr/bin:/bin`] }));
    const emperor = new EmperorProcess(['--emperor', dir.path, '--emperor-tyrant']);
    const [pid] = await pidsAnswering(dir.file('app.sock'), 1);

    expect((await ask(dir.file('app.sock'))).uid).toBe(tenant.uid);
    expect(existsSync(marker) ? await readFile(marker, 'utf8') : '').toBe('');
    // The vassal's PATH does apply to its own program, after the privilege drop.
    expect(environOf(pid!).PATH).toBe(`${bin}:/usr/bin:/bin`);
    expect(emperor.events('worker.spawn', 'app.ini')).toHaveLength(1);
  });

  it.skipIf(!hasCompiler())(`never lets LD_PRELOAD from a vassal reach a root process${hasCompiler() ? '' : ' [SKIPPED: no C compiler]'}`, async () => {
    const shared = dir.file('shared');
    await mkdir(shared, { mode: 0o777 });
    await chmod(shared, 0o777);
    const log = `${shared}/preload.log`;
    // A library that records the uid and program of every process it is loaded into.
    await writeFile(
      `${shared}/spy.c`,
      `#include <stdio.h>\n#include <unistd.h>\n__attribute__((constructor)) static void spy(void) {\n` +
        `  char comm[64] = "?"; FILE *c = fopen("/proc/self/comm", "r"); if (c) { if (fgets(comm, sizeof comm, c)) {} fclose(c); }\n` +
        `  FILE *f = fopen("${log}", "a"); if (f) { fprintf(f, "%d %s", (int)getuid(), comm); fclose(f); }\n}\n`,
    );
    execFileSync('cc', ['-shared', '-fPIC', '-o', `${shared}/spy.so`, `${shared}/spy.c`]);
    await chmod(`${shared}/spy.so`, 0o755);

    await tenantVassal('app.ini', serveIni('app.sock', { processes: 1, env: [`LD_PRELOAD=${shared}/spy.so`] }));
    new EmperorProcess(['--emperor', dir.path, '--emperor-tyrant']);
    await pidsAnswering(dir.file('app.sock'), 1);

    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    // The library did load: into the tenant's own processes (the shell and the worker), so the check can fail...
    expect(lines.some((l) => l.startsWith(`${tenant.uid} `))).toBe(true);
    // ...but never into a process running as root.
    expect(lines.filter((l) => l.startsWith('0 '))).toEqual([]);
  });

  it("gives a tenant's workers a minimal environment, not the emperor's; tyrant-pass-env adds named variables", async () => {
    await tenantVassal('app.ini', serveIni('app.sock', { processes: 1, env: ['OWN=mine'] }));
    new EmperorProcess(['--emperor', dir.path, '--emperor-tyrant', '--tyrant-pass-env', 'PASSED'], {
      env: { ROOT_SECRET: 'root-only-s3cret', PASSED: 'shared-value' },
    });
    const [pid] = await pidsAnswering(dir.file('app.sock'), 1);
    const env = environOf(pid!);

    expect(Object.values(env).join('\n')).not.toContain('root-only-s3cret');
    expect(env).toMatchObject({ PASSED: 'shared-value', OWN: 'mine', USER: TEST_USER, LOGNAME: TEST_USER, PATH: '/usr/local/bin:/usr/bin:/bin' });
    // Only the documented variables, the vassal's own and the supervisor's.
    const expected = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'PASSED', 'OWN', 'PWD', 'OLDPWD']);
    const extra = Object.keys(env).filter((k) => !expected.has(k) && !k.startsWith('SUPERVISOR_') && !k.startsWith('LISTEN_') && k !== 'NOTIFICATION_FD');
    expect(extra).toEqual([]);
  });

  it("keeps the emperor's environment for default-mode vassals (the operator's own files)", async () => {
    await writeFile(dir.file('app.ini'), serveIni('app.sock', { processes: 1 }));
    new EmperorProcess(['--emperor', dir.path], { env: { OPERATOR_SETTING: 'kept' } });
    const [pid] = await pidsAnswering(dir.file('app.sock'), 1);
    expect(environOf(pid!).OPERATOR_SETTING).toBe('kept');
  });

  it('a vassal cannot set or remove the variables the supervisor sets: a warning at file:line, and the real values', async () => {
    const file = await tenantVassal('app.ini', serveIni('app.sock', { processes: 1, env: ['SUPERVISOR_EMPEROR=fake', 'LISTEN_FDS=9'] }));
    const emperor = new EmperorProcess(['--emperor', dir.path, '--emperor-tyrant']);
    const [pid] = await pidsAnswering(dir.file('app.sock'), 1);
    const env = environOf(pid!);
    expect(env.SUPERVISOR_EMPEROR).toBeTruthy();
    expect(env.SUPERVISOR_EMPEROR).not.toBe('fake');
    expect(env.LISTEN_FDS).toBe('1');
    const line = (await readFile(file, 'utf8')).split('\n').findIndex((l) => l === 'env = SUPERVISOR_EMPEROR=fake') + 1;
    const warning = emperor.events('config.diagnostic').find((r) => r.severity === 'warning' && r.line === line);
    expect(warning?.msg).toBe(`${file}:${line}: warning: SUPERVISOR_EMPEROR is set by the supervisor for every worker; this env line is ignored`);
  });

  it("enters chdir with the tenant's rights: a directory reachable only through a root-only one is refused", async () => {
    const secret = dir.file('secret');
    await mkdir(`${secret}/pub`, { recursive: true });
    await chmod(secret, 0o700);
    await chmod(`${secret}/pub`, 0o755);
    await tenantVassal('app.ini', serveIni('app.sock', { processes: 1, chdir: `${secret}/pub`, 'ready-timeout': 5 }));
    const emperor = new EmperorProcess(['--emperor', dir.path, '--emperor-tyrant']);

    // Either the config reader (as the tenant) refuses it, or the worker's own cd fails; it never runs there.
    const refused = await emperor.waitForLog(
      (r) =>
        (r.event === 'config.diagnostic' && r.severity === 'error' && String(r.msg).includes('chdir')) ||
        (r.event === 'worker.exit' && r.vassal === 'app.ini' && r.code === 126),
    );
    expect(refused).toBeTruthy();
    expect(emperor.events('worker.ready', 'app.ini')).toEqual([]);
  });
});
