import { existsSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { EMPEROR_MARKER } from '../../src/emperor/orphan-sweep.js';
import { parseRunRecord } from '../../src/runtime/run-record.js';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { sleeperIni } from '../support/vassal-dir.js';

const box = sandbox();

/** A vassal directory in the sandbox with one vassal of two sleeping workers. */
async function vassalDir(name: string): Promise<string> {
  const dir = box.file(name);
  await mkdir(dir);
  await writeFile(`${dir}/app.ini`, sleeperIni({ processes: 2 }));
  return dir;
}

/** An emperor that is up with both workers ready; its worker pids. */
async function running(args: string[]): Promise<{ emperor: EmperorProcess; workers: number[] }> {
  const emperor = new EmperorProcess(args);
  await emperor.waitForLog((r) => r.event === 'vassal.ready');
  // Ready by uptime may come before a worker's program runs; until then (setpriv, the setup shell) its environment
  // does not carry the test's tag.
  const workers = await vi.waitFor(() => {
    const found = emperor.liveDescendants().sort();
    expect(found).toHaveLength(2);
    // Each one runs its program (sleep) by now, not the emperor's fork or the exec chain still.
    for (const pid of found) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('sleep');
    return found;
  });
  return { emperor, workers };
}

/** A second emperor that must be refused: exits 1 at once, having started nothing. Returns what it printed. */
async function refused(args: string[]): Promise<string> {
  const second = new EmperorProcess(args);
  const { code } = await second.exit(20_000);
  expect(code).toBe(1);
  expect(second.records.filter((r) => r.event !== undefined)).toEqual([]);
  expect(second.liveDescendants()).toEqual([]);
  return second.stderr.join('');
}

/** The run id of a live process, from its environment; undefined when it carries none. */
function runIdOf(pid: number): string | undefined {
  return readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .find((v) => v.startsWith(`${EMPEROR_MARKER}=`))
    ?.slice(EMPEROR_MARKER.length + 1);
}

describe('a second emperor is refused, and the first one is left alone', () => {
  it('on the same pidfile (with another directory): the pidfile and the first one\'s workers are unchanged', async () => {
    const pidfile = box.file('emperor.pid');
    const { emperor: first, workers } = await running(['--emperor', await vassalDir('one'), '--pidfile', pidfile]);
    const before = { text: readFileSync(pidfile, 'utf8'), ino: statSync(pidfile).ino };
    expect(before.text).toBe(`${first.pid}\n`);

    const said = await refused(['--emperor', await vassalDir('two'), '--pidfile', pidfile]);
    expect(said).toBe(`supervisor: emperor ${first.pid} already holds pidfile ${pidfile}\n`);
    expect({ text: readFileSync(pidfile, 'utf8'), ino: statSync(pidfile).ino }).toEqual(before);
    expect(first.liveDescendants().sort()).toEqual(workers);
    expect(first.events('worker.exit')).toEqual([]);
  });

  it('on the same directory with another pidfile: no pidfile written, no worker of the first one killed', async () => {
    const dir = await vassalDir('one');
    const { emperor: first, workers } = await running(['--emperor', dir, '--pidfile', box.file('first.pid')]);

    const said = await refused(['--emperor', dir, '--pidfile', box.file('second.pid')]);
    expect(said).toBe(`supervisor: emperor ${first.pid} already runs on ${dir} (its .ini files)\n`);
    expect(existsSync(box.file('second.pid'))).toBe(false);
    expect(first.liveDescendants().sort()).toEqual(workers);
    expect(first.events('worker.exit')).toEqual([]);
  });

  it('on a glob over the same directory, or the directory by another name (a symlink)', async () => {
    const dir = await vassalDir('one');
    symlinkSync(dir, box.file('link'));
    const { emperor: first, workers } = await running(['--emperor', dir]);

    expect(await refused(['--emperor', `${dir}/app-*.ini`])).toBe(`supervisor: emperor ${first.pid} already runs on ${dir}/app-*.ini (${dir}, its .ini files)\n`);
    expect(await refused(['--emperor', box.file('link')])).toContain(`emperor ${first.pid} already runs on ${box.file('link')} (${dir}, its .ini files)`);
    expect(first.liveDescendants().sort()).toEqual(workers);
  });

  it('on a directory that does not exist yet, both waiting for it (emperor-wait)', async () => {
    const dir = box.file('later/vassals');
    const first = new EmperorProcess(['--emperor', dir, '--emperor-wait']);
    await first.waitForLog((r) => r.event === 'emperor.dir-missing');
    expect(await refused(['--emperor', dir, '--emperor-wait'])).toContain(`emperor ${first.pid} already runs on ${dir}`);
  });
});

describe('the sweep of an earlier run', () => {
  /** An emperor on `dirs` whose `family.ini` worker leaves a grandchild; SIGKILLed. Returns the grandchild and the run id. */
  async function killedWithLeftover(dirs: string[]): Promise<{ grandchild: number; runId: string }> {
    await writeFile(`${dirs[0]}/family.ini`, vassalIni({ command: fixtureCommand('ignore-sigterm'), env: 'GRANDCHILD=1' }));
    const emperor = new EmperorProcess(dirs.flatMap((d) => ['--emperor', d]));
    const line = await emperor.waitForLog((r) => r.event === 'worker.output' && r.msg.startsWith('grandchild '));
    const grandchild = Number(line.msg.split(' ')[1]);
    const runId = runIdOf(grandchild);
    emperor.child.kill('SIGKILL');
    await emperor.exit();
    await vi.waitFor(() => expect(emperor.spawnedPids().filter(isAlive)).toEqual([]));
    expect(isAlive(grandchild)).toBe(true);
    expect(runId).toMatch(/^[0-9a-f]{16}$/);
    return { grandchild, runId: runId! };
  }

  it('kills what a killed run on the same directory left, even when the new run watches fewer directories', async () => {
    const [one, two] = [await vassalDir('one'), await vassalDir('two')];
    const { grandchild, runId } = await killedWithLeftover([one, two]);
    expect(existsSync(`/run/supervisor/${runId}`)).toBe(true);

    const next = new EmperorProcess(['--emperor', one]);
    const swept = await next.waitForLog((r) => r.event === 'emperor.orphans');
    expect(swept.runs).toEqual([runId]);
    expect((swept.orphans as { pid: number }[]).map((o) => o.pid)).toContain(grandchild);
    await vi.waitFor(() => expect(isAlive(grandchild)).toBe(false));
    expect(existsSync(`/run/supervisor/${runId}`)).toBe(false);
  });

  it("leaves another emperor's leftovers (and their run directory) to that emperor's next start", async () => {
    const [one, two] = [await vassalDir('one'), await vassalDir('two')];
    const { grandchild, runId } = await killedWithLeftover([one]);

    const other = new EmperorProcess(['--emperor', two]);
    await other.waitForLog((r) => r.event === 'vassal.ready');
    expect(other.events('emperor.orphans')).toEqual([]);
    expect(isAlive(grandchild)).toBe(true);
    expect(existsSync(`/run/supervisor/${runId}`)).toBe(true);

    const same = new EmperorProcess(['--emperor', one]);
    await same.waitForLog((r) => r.event === 'emperor.orphans');
    await vi.waitFor(() => expect(isAlive(grandchild)).toBe(false));
    expect(existsSync(`/run/supervisor/${runId}`)).toBe(false);
  });
});

describe('the run id a worker carries (the exec chain sets SUPERVISOR_EMPEROR last)', () => {
  it("is the emperor's own, whatever the vassal's env lines say", async () => {
    const dir = box.file('one');
    await mkdir(dir);
    await writeFile(`${dir}/app.ini`, sleeperIni({ env: `${EMPEROR_MARKER}=0123456789abcdef` }));
    const emperor = new EmperorProcess(['--emperor', dir]);
    await emperor.waitForLog((r) => r.event === 'vassal.ready');
    const [worker] = emperor.spawnedPids('app.ini');
    // Until its program runs, the pid is the exec chain, whose fixed environment carries no marker.
    const runId = await vi.waitFor(() => {
      const id = runIdOf(worker!);
      expect(id).toBeDefined();
      return id;
    });
    expect(runId).not.toBe('0123456789abcdef');
    const record = parseRunRecord(readFileSync(`/run/supervisor/${runId}/run`, 'utf8'));
    expect(record?.pid).toBe(emperor.pid);
  });
});
