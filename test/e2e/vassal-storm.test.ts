// Storms of changes, and the safety net for changes no event reports.
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, vi } from 'vitest';
import { runStorm } from '../../bench/storm.mjs';
import { EmperorProcess } from '../support/emperor.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { sleeperIni } from '../support/vassal-dir.js';

const dir = sandbox();
let emperor: EmperorProcess | undefined;

/** Vassal name -> how often the log says it started and stopped (stopped = finished stopping). */
function lifecycle(e: EmperorProcess): Map<string, { start: number; stopped: number; reload: number }> {
  const byName = new Map<string, { start: number; stopped: number; reload: number }>();
  for (const r of e.records) {
    if (!r.vassal || !['vassal.start', 'vassal.stopped', 'vassal.reload'].includes(r.event ?? '')) continue;
    const entry = byName.get(r.vassal) ?? { start: 0, stopped: 0, reload: 0 };
    if (r.event === 'vassal.start') entry.start++;
    else if (r.event === 'vassal.stopped') entry.stopped++;
    else entry.reload++;
    byName.set(r.vassal, entry);
  }
  return byName;
}

describe('a storm of 1,000 files created, edited, renamed and deleted', () => {
  it('settles to exactly the vassals the directory holds, each started once, with no worker left over', async () => {
    // One vassal there from the start: once it runs, the directory is being watched.
    await writeFile(path.join(dir.path, 'pre.ini'), sleeperIni());
    emperor = new EmperorProcess(['--emperor', dir.path]);
    await emperor.waitForLog((r) => r.event === 'worker.ready' && r.vassal === 'pre.ini');

    const storm = await runStorm(dir.path, { files: 1000, rounds: 10, pauseMs: 100, ini: (i, edited) => sleeperIni({ env: `N=${i}${edited ? '-edited' : ''}` }) });
    const onDisk = readdirSync(dir.path).filter((n) => n.endsWith('.ini')).sort();
    expect(onDisk).toEqual(['pre.ini', ...storm.finalNames].sort());
    expect(onDisk).toHaveLength(501);

    // Settled: every file's vassal started, every other vassal stopped, one live worker per file.
    const final = new Set(onDisk);
    await vi.waitFor(
      () => {
        const seen = lifecycle(emperor!);
        for (const name of final) expect(seen.get(name)?.start, name).toBe(1);
        for (const [name, counts] of seen) if (!final.has(name)) expect(counts.stopped, name).toBe(counts.start);
        expect(emperor!.liveDescendants()).toHaveLength(final.size);
      },
      { timeout: 45_000, interval: 200 },
    );
    const settledMs = performance.now() - storm.endedAt;

    const seen = lifecycle(emperor);
    // No vassal started twice; the ones gone were stopped exactly once; none of the final ones was stopped.
    for (const [name, counts] of seen) {
      expect(counts.start, name).toBe(1);
      expect(counts.stopped, name).toBe(final.has(name) ? 0 : 1);
      expect(counts.reload, name).toBeLessThanOrEqual(1);
    }
    // Workers of vassals that are gone are all dead; the live ones are exactly the final vassals' workers.
    const finalPids = new Set(onDisk.flatMap((name) => emperor!.spawnedPids(name)).filter(isAlive));
    expect(finalPids.size).toBe(final.size);
    expect(new Set(emperor.liveDescendants())).toEqual(finalPids);

    // Coalesced: thousands of events, a handful of reconciles; and the emperor acted during the storm, not only after.
    const syncs = emperor.events('emperor.sync');
    expect(storm.ops).toBeGreaterThanOrEqual(2000);
    expect(syncs.length).toBeLessThan(100);
    const firstStart = emperor.records.findIndex((r) => r.event === 'vassal.start');
    expect(firstStart).toBeGreaterThanOrEqual(0);
    expect(seen.size).toBeGreaterThan(final.size); // some vassals ran mid-storm for files renamed or deleted later
    console.log(`storm: ${storm.ops} file operations, ${syncs.length} reconciles, settled ${settledMs.toFixed(0)} ms after the last operation`);

    // Stays responsive: a stop right after the storm ends everything promptly.
    emperor.child.kill('SIGTERM');
    expect((await emperor.exit(30_000)).code).toBe(0);
    expect(emperor.liveDescendants()).toEqual([]);
  }, 90_000);
});

/** Whether this machine lets us make a user namespace with our own inotify limits (Linux 5.11+, unprivileged userns). */
async function canLimitInotify(): Promise<boolean> {
  const probe = await execa('unshare', ['-Ur', 'sh', '-c', 'echo 1 > /proc/sys/user/max_inotify_watches'], { reject: false });
  return probe.exitCode === 0;
}

describe('safety net', () => {
  it('when no directory can be watched (inotify watch limit reached), says what to change and the rescan still applies changes', async (ctx) => {
    if (!(await canLimitInotify())) ctx.skip();
    await writeFile(path.join(dir.path, 'first.ini'), sleeperIni());
    // A user namespace whose inotify watch limit is 0: every watch fails with ENOSPC, as when
    // fs.inotify.max_user_watches is exhausted by other programs.
    emperor = new EmperorProcess(['--emperor', dir.path, '--emperor-freq', '0.2'], {
      wrap: ['unshare', '-Ur', 'sh', '-c', 'echo 0 > /proc/sys/user/max_inotify_watches && exec "$@"', 'sh'],
    });
    const error = await emperor.waitForLog((r) => r.event === 'emperor.watch-error');
    expect(error.code).toBe('ENOSPC');
    expect(error.msg).toContain('fs.inotify.max_user_watches');
    expect(error.msg).toContain('rescan every 0.2 s');
    await emperor.waitForLog((r) => r.event === 'worker.ready' && r.vassal === 'first.ini');

    await writeFile(path.join(dir.path, 'second.ini'), sleeperIni());
    await emperor.waitForLog((r) => r.event === 'worker.ready' && r.vassal === 'second.ini');
    const missed = await emperor.waitForLog((r) => r.event === 'emperor.missed-events');
    expect(missed.files).toEqual([path.join(dir.path, 'second.ini')]);
    expect(missed.msg).toContain('fs.inotify.max_queued_events');
    // Logged once, not at every retry.
    expect(emperor.events('emperor.watch-error')).toHaveLength(1);
  });
});
