import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { get } from '../support/http.js';
import { sandbox } from '../support/sandbox.js';
import { autogroupRateLimited, readAutogroupNice, writeAutogroupNice } from '../../src/runtime/autogroup.js';
import { isRoot } from '../support/test-users.js';

const dir = sandbox('svh');

/**
 * The emperor's children running the bind helper, with their nice value and session (/proc/PID/stat fields 19 and 6)
 * and their autogroup's nice value (undefined without autogroups).
 */
function bindHelpersOf(emperor: number): { pid: number; nice: number; session: number; autogroup: number | undefined }[] {
  const found: { pid: number; nice: number; session: number; autogroup: number | undefined }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (Number(fields[1]) !== emperor) continue;
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('bind-helper.js')) continue;
      found.push({ pid: Number(entry), nice: Number(fields[16]), session: Number(fields[3]), autogroup: readAutogroupNice(Number(entry)) });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

describe.skipIf(!isRoot)('the bind helper kept waiting', () => {
  // The emperor runs in this process's session: a helper lowered in that session's group (the bug the test looks
  // for) would lower the test runner's, and every later test's, with it. Put it back whatever happened.
  const ownGroup = readAutogroupNice('self');
  afterEach(() => {
    if (ownGroup !== undefined && readAutogroupNice('self') !== ownGroup) writeAutogroupNice(process.pid, ownGroup);
  });

  it('is started once a vassal has its sockets, at nice 19 until taken; the next vassal still gets its socket', async () => {
    const serve = (name: string): string =>
      vassalIni({ command: fixtureCommand('serve-on-fd3'), socket: dir.file(`${name}.sock`), 'notification-fd': 'auto' });
    await writeFile(dir.file('a.ini'), serve('a'));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await vi.waitFor(() => get({ socketPath: dir.file('a.sock') }), { timeout: 20_000, interval: 50 });
    const [waiting] = await vi.waitFor(
      () => {
        const helpers = bindHelpersOf(emperor.pid);
        expect(helpers).toHaveLength(1);
        return helpers;
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(waiting?.nice).toBe(19);
    // A session of its own, so that its autogroup can be lowered without the emperor's: sharing the emperor's group,
    // its Node start would weigh as much as the emperor, whatever its own nice value.
    expect(waiting?.session).toBe(waiting?.pid);
    const emperorGroup = readAutogroupNice(emperor.pid);
    if (emperorGroup !== undefined && !autogroupRateLimited()) {
      expect(waiting?.autogroup).toBe(19);
      expect(emperorGroup).not.toBe(19);
    }
    // Taken by the next vassal's lease: it binds, and a new one waits in its place.
    await writeFile(dir.file('b.ini'), serve('b'));
    await vi.waitFor(() => get({ socketPath: dir.file('b.sock') }), { timeout: 20_000, interval: 50 });
    await vi.waitFor(
      () => {
        const helpers = bindHelpersOf(emperor.pid);
        expect(helpers.map((h) => h.nice)).toEqual([19]);
        expect(helpers[0]?.pid).not.toBe(waiting?.pid);
        if (emperorGroup !== undefined && !autogroupRateLimited()) expect(helpers[0]?.autogroup).toBe(19);
        // The helpers' groups were their own: the emperor's is as it was.
        expect(readAutogroupNice(emperor.pid)).toBe(emperorGroup);
      },
      { timeout: 20_000, interval: 50 },
    );
  });
});

