import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { describe, expect, it, vi } from 'vitest';
import { EMPEROR_MARKER } from '../../src/emperor/orphan-sweep.js';
import { formatRunRecord, parseRunRecord } from '../../src/runtime/run-record.js';
import { CLI, EmperorProcess, FIXTURES, NODE, vassalIni } from '../support/emperor.js';
import { sandbox } from '../support/sandbox.js';
import { OTHER_USER } from '../support/test-users.js';
import { sleeperIni } from '../support/vassal-dir.js';

const box = sandbox();
const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));

/**
 * Runs the CLI in a mount namespace of its own with an empty tmpfs on /run, after `setup` (shell lines run there as
 * root), so each test has its own /run/supervisor. The test sees it as /proc/PID/root/run/supervisor.
 */
async function inOwnRun(args: string[], setup = ''): Promise<EmperorProcess> {
  const script = box.file('ns.sh');
  await writeFile(script, `set -e\nmount -t tmpfs -o mode=755 tmpfs /run\n${setup}\nexec "$@"\n`);
  return new EmperorProcess(args, { wrap: ['unshare', '--mount', '--propagation', 'private', '/bin/sh', script] });
}

async function vassalDir(ini: string): Promise<string> {
  const dir = box.file('vassals');
  await mkdir(dir);
  await writeFile(`${dir}/app.ini`, ini);
  return dir;
}

const notifyIni = (): string => vassalIni({ command: `${PYTHON} ${FIXTURES}workers/notify-ready.py`, 'notify-socket': 'true' });
const mode = (p: string): number => lstatSync(p).mode & 0o7777;
const envOf = (pid: number, name: string): string | undefined =>
  readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .find((v) => v.startsWith(`${name}=`))
    ?.slice(name.length + 1);

describe('the runtime directory', () => {
  it.skipIf(!PYTHON)('is /run/supervisor for root (0755): a private secret, the control socket, and per run a 0711 directory with its record and the notify sockets', async () => {
    const emperor = await inOwnRun(['--emperor', await vassalDir(notifyIni())]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const root = `/proc/${emperor.pid}/root/run/supervisor`;
    expect(lstatSync(root).isDirectory()).toBe(true);
    expect([mode(root), lstatSync(root).uid]).toEqual([0o755, 0]);
    expect([mode(`${root}/secret`), statSync(`${root}/secret`).size]).toEqual([0o600, 32]);
    const [worker] = emperor.spawnedPids('app.ini');
    const runId = envOf(worker!, EMPEROR_MARKER)!;
    // The control socket is in the root (found without the run id), 0600.
    expect(readdirSync(root).sort()).toEqual([runId, 'control.sock', 'secret'].sort());
    expect([mode(`${root}/control.sock`), lstatSync(`${root}/control.sock`).isSocket()]).toEqual([0o600, true]);
    // ... where root's `supervisor --status`, without a path, finds it (run in the emperor's mount namespace).
    const status = await execa('nsenter', ['-t', String(emperor.pid), '-m', NODE, CLI, '--status', '--json'], { reject: false, timeout: 60_000 });
    expect(status.exitCode).toBe(0);
    expect(JSON.parse(String(status.stdout))).toMatchObject({ emperor: { pid: emperor.pid } });
    expect(mode(`${root}/${runId}`)).toBe(0o711);
    expect(mode(`${root}/${runId}/run`)).toBe(0o600);
    const record = parseRunRecord(readFileSync(`${root}/${runId}/run`, 'utf8'));
    expect(record?.pid).toBe(emperor.pid);
    expect(record?.keys).toHaveLength(1);
    expect(envOf(worker!, 'NOTIFY_SOCKET')).toMatch(new RegExp(`^/run/supervisor/${runId}/notify-\\d+-\\d+\\.sock$`));
  });

  it('is removed (this run\'s part) when the emperor stops', async () => {
    const emperor = new EmperorProcess(['--emperor', await vassalDir(sleeperIni())]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const [worker] = emperor.spawnedPids('app.ini');
    // A sleeper is ready at spawn: until its program runs, the pid is the exec chain, whose environment has no marker.
    const runId = await vi.waitFor(() => {
      const id = envOf(worker!, EMPEROR_MARKER);
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      return id!;
    });
    expect(existsSync(`/run/supervisor/${runId}/run`)).toBe(true);
    emperor.child.kill('SIGTERM');
    expect((await emperor.exit()).code).toBe(0);
    expect(existsSync(`/run/supervisor/${runId}`)).toBe(false);
  });

  it.each([
    ['group-writable', 'mkdir -m 775 /run/supervisor', /unsafe runtime directory: \/run\/supervisor is writable by other users \(mode 775\)/],
    ['a symlink', 'mkdir -m 755 /run/elsewhere; ln -s /run/elsewhere /run/supervisor', /unsafe runtime directory: \/run\/supervisor is a symlink/],
    ['owned by another user', `mkdir -m 755 /run/supervisor; chown ${OTHER_USER} /run/supervisor`, /\/run\/supervisor is owned by uid \d+, not 0/],
    ['holding a secret others can read', 'mkdir -m 755 /run/supervisor; head -c 32 /dev/urandom > /run/supervisor/secret; chmod 644 /run/supervisor/secret', /secret is not a private 32-byte file/],
  ])('refuses to start when it is %s, saying why, having started nothing', async (_what, setup, reason) => {
    const emperor = await inOwnRun(['--emperor', await vassalDir(sleeperIni())], setup);
    const { code } = await emperor.exit(20_000);
    expect(code).toBe(1);
    expect(emperor.stderr.join('')).toMatch(reason);
    expect(emperor.records.filter((r) => r.event !== undefined)).toEqual([]);
  });

  it('is cleaned without following links, and what another user made stays', async () => {
    const victim = box.file('victim');
    await mkdir(victim);
    await writeFile(`${victim}/keep.txt`, 'keep\n');
    chmodSync(box.path, 0o755);
    // Runs that are gone (a pid that does not exist): one of ours with links in it, one a symlink, one another user's.
    const dead = formatRunRecord({ pid: 2147483646, startTime: '1', keys: [] });
    await writeFile(box.file('dead.json'), dead);
    const setup = [
      'mkdir -m 755 /run/supervisor',
      'mkdir -m 711 /run/supervisor/aaaaaaaaaaaaaaaa',
      `cp ${box.file('dead.json')} /run/supervisor/aaaaaaaaaaaaaaaa/run`,
      `ln -s ${victim} /run/supervisor/aaaaaaaaaaaaaaaa/dir-link`,
      `ln -s ${victim}/keep.txt /run/supervisor/aaaaaaaaaaaaaaaa/file-link`,
      `ln -s ${victim} /run/supervisor/bbbbbbbbbbbbbbbb`,
      'mkdir -m 755 /run/supervisor/cccccccccccccccc',
      `cp ${box.file('dead.json')} /run/supervisor/cccccccccccccccc/run`,
      `chown -R ${OTHER_USER} /run/supervisor/cccccccccccccccc`,
    ].join('\n');
    const emperor = await inOwnRun(['--emperor', await vassalDir(sleeperIni())], setup);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const root = `/proc/${emperor.pid}/root/run/supervisor`;
    expect(existsSync(`${root}/aaaaaaaaaaaaaaaa`)).toBe(false);
    expect(readFileSync(`${victim}/keep.txt`, 'utf8')).toBe('keep\n');
    expect(lstatSync(`${root}/bbbbbbbbbbbbbbbb`).isSymbolicLink()).toBe(true);
    expect(readdirSync(`${root}/cccccccccccccccc`)).toEqual(['run']);
  });

  it.skipIf(!PYTHON)('is made again when removed under the emperor (a cleaner of /run), with the same secret', async () => {
    await mkdir(box.file('vassals'));
    await writeFile(box.file('vassals/app.ini'), notifyIni());
    const emperor = await inOwnRun(['--emperor', box.file('vassals')]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const root = `/proc/${emperor.pid}/root/run/supervisor`;
    const secret = readFileSync(`${root}/secret`);
    const [worker] = emperor.spawnedPids('app.ini');
    const runId = envOf(worker!, EMPEROR_MARKER);

    rmSync(root, { recursive: true });
    // A new worker needs a notify socket in the run directory.
    process.kill(worker!, 'SIGKILL');
    await vi.waitFor(() => expect(emperor.events('worker.ready', 'app.ini')).toHaveLength(2), { timeout: 20_000 });
    expect(emperor.events('worker.spawn-failed')).toEqual([]);
    expect(readFileSync(`${root}/secret`)).toEqual(secret);
    expect(parseRunRecord(readFileSync(`${root}/${runId}/run`, 'utf8'))?.pid).toBe(emperor.pid);
    expect(mode(root)).toBe(0o755);
  });
});
