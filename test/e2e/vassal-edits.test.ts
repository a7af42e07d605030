// How vassal files are edited in real life: editors' save sequences, chunked writers, touch and cp -p. Each case
// must cause exactly the one action its content change calls for.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess } from '../support/emperor.js';
import {
  saveLikeEmacs,
  saveLikeJetBrains,
  saveLikeJetBrainsSlowly,
  saveLikeNano,
  saveLikeVimInPlace,
  saveLikeVsCode,
  vimSession,
  writeInChunks,
} from '../support/file-changes.js';
import { untilClockPasses } from '../support/file-clock.js';
import { sandbox } from '../support/sandbox.js';
import { actions, plannedFor, sleeperIni } from '../support/vassal-dir.js';

const dir = sandbox();
let emperor: EmperorProcess | undefined;

/** Starts an emperor on the temp dir with `app.ini` running, and waits until its worker is up. */
async function startWithApp(args: string[] = []): Promise<{ file: string; emperor: EmperorProcess }> {
  const file = path.join(dir.path, 'app.ini');
  await writeFile(file, sleeperIni({ env: 'VERSION=1' }));
  emperor = new EmperorProcess(['--emperor', dir.path, ...args]);
  await emperor.waitForLog((r) => r.event === 'worker.ready' && r.vassal === 'app.ini');
  return { file, emperor };
}

/**
 * Proves that nothing more happens to app.ini: a second, different change (a new vassal) is made and seen; by then
 * every reconcile that the first change caused has logged its plan.
 */
async function markerSeen(e: EmperorProcess, name = 'marker.ini'): Promise<void> {
  await writeFile(path.join(dir.path, name), sleeperIni());
  await e.waitForLog((r) => r.event === 'vassal.start' && r.vassal === name);
}

function vassalsOtherThan(e: EmperorProcess, ...names: string[]): string[] {
  return [...new Set(e.events('vassal.start').map((r) => r.vassal as string))].filter((n) => !names.includes(n));
}

const editors: [string, (file: string, text: string) => void][] = [
  [
    'vim (4913 probe, rename to backup x~, write, fsync, delete backup; swap file open meanwhile)',
    (file, text) => {
      const session = vimSession(file);
      session.save(text);
      session.quit();
    },
  ],
  ['vim writing in place (backupcopy=yes: copy to backup, truncate, write)', saveLikeVimInPlace],
  ['emacs (lock link .#x, rename to backup x~ which stays, write new file)', saveLikeEmacs],
  ['nano (lock file .x.swp, truncate and write in place)', saveLikeNano],
  ['VS Code-style atomic save (temp file in the directory, fsync, rename over)', saveLikeVsCode],
  ['JetBrains safe write (tmp, rename original away, rename tmp in, delete old: a moment with no file)', saveLikeJetBrains],
];

describe('editor saves: one save, one reload', () => {
  it.each(editors)('%s', async (_name, save) => {
    const { file, emperor: e } = await startWithApp();
    save(file, sleeperIni({ env: 'VERSION=2' }));
    await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'app.ini');
    await markerSeen(e);

    expect(actions(e, 'app.ini')).toEqual({ start: 1, reload: 1, scale: 0, stop: 0 });
    expect(plannedFor(e, file)).toEqual(['start', 'reload']);
    // No vassal for a temp, backup, lock or probe file.
    expect(vassalsOtherThan(e, 'app.ini', 'marker.ini')).toEqual([]);
    expect(e.events('config.diagnostic')).toEqual([]);
  });

  it('a real vim (when installed) saving with :wq reloads once', async (ctx) => {
    const vim = await execa('vim', ['--version'], { reject: false });
    if (vim.exitCode !== 0) ctx.skip();
    const { file, emperor: e } = await startWithApp();
    const edit = await execa('vim', ['-u', 'NONE', '-N', '-i', 'NONE', '-es', '-c', 'normal Goenv = EDITED=1', '-c', 'wq', file], { reject: false });
    expect(edit.exitCode).toBe(0);
    expect(await readFile(file, 'utf8')).toContain('EDITED=1');
    await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'app.ini');
    await markerSeen(e);
    expect(actions(e, 'app.ini')).toEqual({ start: 1, reload: 1, scale: 0, stop: 0 });
    expect(vassalsOtherThan(e, 'app.ini', 'marker.ini')).toEqual([]);
  });
});

describe('an editor paused between its steps, while rescans run', () => {
  it('JetBrains safe write with 40 ms between its renames, rescans every 10 ms: one reload, never a stop', async () => {
    // A rescan lands while app.ini does not exist; the directory changed a moment ago, so the vassal is held.
    const { file, emperor: e } = await startWithApp(['--emperor-settle', '0.2', '--emperor-freq', '0.01']);
    await saveLikeJetBrainsSlowly(file, sleeperIni({ env: 'VERSION=2' }), 40);
    await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'app.ini');
    await markerSeen(e);
    expect(actions(e, 'app.ini')).toEqual({ start: 1, reload: 1, scale: 0, stop: 0 });
    // The hold was needed: some reconcile saw the file missing or settling and left the vassal alone.
    expect(e.events('emperor.sync').some((r) => (r.settling as string[]).includes(file))).toBe(true);
  });
});

describe('a file written in several chunks is read once complete', () => {
  it('starts once, with the final content, though every chunk boundary is itself a valid file', async () => {
    // Settle time 1 s, pauses of 100 ms: the writer pauses well within the settle time.
    emperor = new EmperorProcess(['--emperor', dir.path, '--emperor-settle', '1']);
    await emperor.waitForLog((r) => r.event === 'emperor.sync' || r.event === 'emperor.start');
    const file = path.join(dir.path, 'chunked.ini');
    const chunks = [sleeperIni(), 'processes = 2\n', 'processes = 3\n'];
    const written = Date.now();
    await writeInChunks(file, chunks, 100);
    const tookMs = Date.now() - written;

    const started = await emperor.waitForLog((r) => r.event === 'vassal.start' && r.vassal === 'chunked.ini');
    expect(started.processes).toBe(3);
    await vi.waitFor(() => expect(emperor!.events('worker.ready', 'chunked.ini')).toHaveLength(3), { timeout: 20_000 });
    await markerSeen(emperor);
    expect(actions(emperor, 'chunked.ini')).toEqual({ start: 1, reload: 0, scale: 0, stop: 0 });
    // The writer did pause between chunks (the test would prove nothing if it had written all at once).
    expect(tookMs).toBeGreaterThanOrEqual(190);
  });
});

describe('a file renamed in complete acts at once; one being written waits the settle time', () => {
  // A settle time far longer than any test waits: what starts, starts without it. No safety-net rescan: only the
  // watch can start what arrives once the emperor is up.
  const SETTLE = ['--emperor-settle', '60', '--emperor-freq', '0'];

  /** An emperor on `vassals` whose watch is in place: the start-up sync watches before it starts marker.ini. */
  async function startWatching(vassals: string): Promise<EmperorProcess> {
    // Written with its times set back, as cp -p leaves it: complete, so not held for the settle time either.
    await writeFile(path.join(vassals, 'marker.ini'), sleeperIni());
    await utimes(path.join(vassals, 'marker.ini'), new Date(1_000_000), new Date(1_000_000));
    const e = new EmperorProcess(['--emperor', vassals, ...SETTLE]);
    await e.waitForLog((r) => r.event === 'vassal.start' && r.vassal === 'marker.ini');
    // The start-up's second scan comes after marker.ini's start: a file that arrived before it ends would be started
    // by that scan (trigger 'start'), not by the watch.
    await e.waitForLog((r) => r.event === 'emperor.up');
    return e;
  }

  it('a file written in a staging directory and renamed into the vassal directory starts without the settle time', async () => {
    const vassals = path.join(dir.path, 'vassals');
    const staging = path.join(dir.path, 'staging');
    await Promise.all([mkdir(vassals), mkdir(staging)]);
    emperor = await startWatching(vassals);
    await writeFile(path.join(staging, 'app.ini'), sleeperIni());
    await untilClockPasses(path.join(staging, 'app.ini'));
    await rename(path.join(staging, 'app.ini'), path.join(vassals, 'app.ini'));
    // Started by the look the rename's event got at once.
    const started = await emperor.waitForLog((r) => r.event === 'emperor.sync' && (r.start as string[]).includes(path.join(vassals, 'app.ini')), 30_000);
    expect(started.trigger).toBe('event');
  });

  it('a file written in place gets the early look too, but is held as settling: not started', async () => {
    emperor = await startWatching(dir.path);
    const file = path.join(dir.path, 'app.ini');
    await writeFile(file, sleeperIni());
    const early = await emperor.waitForLog((r) => r.event === 'emperor.sync' && r.trigger === 'event');
    expect(early.settling).toEqual([file]);
    expect(emperor.events('vassal.start').map((r) => r.vassal)).toEqual(['marker.ini']);
  });
});

describe('content decides, not timestamps', () => {
  it('a touch of the same file reloads once, as in uWSGI; an mtime set back, or a copy with an older mtime, does not', async () => {
    const { file, emperor: e } = await startWithApp();
    const older = path.join(dir.path, 'older-copy');
    execFileSync('cp', ['-p', file, older]);
    execFileSync('touch', ['-d', '2001-02-03 04:05:06', older]);

    execFileSync('touch', [file]);
    await vi.waitFor(() => expect(actions(e, 'app.ini').reload).toBe(1), { timeout: 20_000 });
    expect(e.events('vassal.reload', 'app.ini')[0]?.reason).toBe('its file was touched');
    const planned = e.events('emperor.sync').find((r) => (r.reload as string[]).includes(file));
    expect((planned?.reasons as Record<string, string>)[file]).toBe('its file was touched');
    await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'app.ini' && r.generation === 2);

    // The mtime moved back (touch -d, cp -p of an older copy): not a touch.
    execFileSync('touch', ['-d', '2001-02-03 04:05:06', file]);
    await markerSeen(e, 'marker1.ini');
    execFileSync('cp', ['-p', older, file]);
    await markerSeen(e, 'marker2.ini');
    expect(actions(e, 'app.ini')).toEqual({ start: 1, reload: 1, scale: 0, stop: 0 });
  });

  it('cp -p of a newer copy onto the file (same inode, mtime forward) reloads; a replacement with the same content does not', async () => {
    const { file, emperor: e } = await startWithApp();
    const newer = path.join(dir.path, 'newer-copy');
    execFileSync('cp', [file, newer]);
    execFileSync('touch', ['-d', 'tomorrow', newer]);
    execFileSync('cp', ['-p', newer, file]);
    await vi.waitFor(() => expect(actions(e, 'app.ini').reload).toBe(1), { timeout: 20_000 });
    await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'app.ini' && r.generation === 2);

    // A deploy tool renames an identical file into place: another inode, same content, newer mtime: nothing.
    const staged = path.join(dir.path, '.app.ini.new');
    execFileSync('cp', [file, staged]);
    execFileSync('touch', ['-d', 'next week', staged]);
    execFileSync('mv', [staged, file]);
    await markerSeen(e);
    expect(actions(e, 'app.ini')).toEqual({ start: 1, reload: 1, scale: 0, stop: 0 });
  });

  it('with emperor-on-touch = ignore, touch and cp -p of the same content do nothing', async () => {
    const { file, emperor: e } = await startWithApp(['--emperor-on-touch', 'ignore']);
    const copy = path.join(dir.path, 'copy-source');
    execFileSync('cp', ['-p', file, copy]);
    execFileSync('touch', [file]);
    execFileSync('touch', ['-d', '2001-02-03 04:05:06', file]);
    execFileSync('cp', ['-p', copy, file]);
    await markerSeen(e);
    expect(actions(e, 'app.ini')).toEqual({ start: 1, reload: 0, scale: 0, stop: 0 });
    expect(plannedFor(e, file)).toEqual(['start']);
  });

  it('an edit that changes nothing effective (a comment) rolls, and the log says why; a processes-only edit scales', async () => {
    const { file, emperor: e } = await startWithApp();
    await writeFile(file, `${await readFile(file, 'utf8')}; a comment, nothing else\n`);
    const reload = await e.waitForLog((r) => r.event === 'vassal.reload' && r.vassal === 'app.ini');
    expect(reload).toMatchObject({ generation: 2, reason: 'its file changed; same options as it runs' });
    await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'app.ini' && r.generation === 2);

    await writeFile(file, sleeperIni({ env: 'VERSION=1', processes: 2 }));
    const scale = await e.waitForLog((r) => r.event === 'vassal.scale' && r.vassal === 'app.ini');
    expect(scale).toMatchObject({ from: 1, to: 2, reason: 'its file changed' });
    expect(actions(e, 'app.ini')).toMatchObject({ reload: 1, scale: 1 });
  });

  it('different content reloads even with the mtime set back, or kept exactly (same size, same mtime to the ns)', async () => {
    const { file, emperor: e } = await startWithApp();
    const reference = path.join(dir.path, 'reference');
    execFileSync('cp', ['-p', file, reference]);

    // Same size, and the old modification time restored to the nanosecond: only ctime and the content differ.
    await writeFile(file, sleeperIni({ env: 'VERSION=2' }));
    execFileSync('touch', ['-r', reference, file]);
    await vi.waitFor(() => expect(actions(e, 'app.ini').reload).toBe(1), { timeout: 20_000 });

    // mtime moved backwards by years.
    await writeFile(file, sleeperIni({ env: 'VERSION=3' }));
    execFileSync('touch', ['-d', '2001-02-03 04:05:06', file]);
    await vi.waitFor(() => expect(actions(e, 'app.ini').reload).toBe(2), { timeout: 20_000 });

    // Two edits within the same second, the second right after the first was acted on.
    await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'app.ini' && r.generation === 3);
    await writeFile(file, sleeperIni({ env: 'VERSION=4' }));
    await vi.waitFor(() => expect(actions(e, 'app.ini').reload).toBe(3), { timeout: 20_000 });
    await writeFile(file, sleeperIni({ env: 'VERSION=5' }));
    await vi.waitFor(() => expect(actions(e, 'app.ini').reload).toBe(4), { timeout: 20_000 });
    await e.waitForLog((r) => r.event === 'vassal.reloaded' && r.vassal === 'app.ini' && r.generation === 5);
    expect(actions(e, 'app.ini')).toEqual({ start: 1, reload: 4, scale: 0, stop: 0 });
    expect(existsSync(file)).toBe(true);
  });
});
