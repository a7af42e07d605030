import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, vassalIni } from '../support/emperor.js';
import { get } from '../support/http.js';
import { sandbox } from '../support/sandbox.js';
import { isRoot } from '../support/test-users.js';

const dir = sandbox('svh');

/** The emperor's children running the bind helper, with their nice value (/proc/PID/stat field 19). */
function bindHelpersOf(emperor: number): { pid: number; nice: number }[] {
  const found: { pid: number; nice: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (Number(fields[1]) !== emperor) continue;
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('bind-helper.js')) continue;
      found.push({ pid: Number(entry), nice: Number(fields[16]) });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

describe.skipIf(!isRoot)('the bind helper kept waiting', () => {
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
    // Taken by the next vassal's lease: it binds, and a new one waits in its place.
    await writeFile(dir.file('b.ini'), serve('b'));
    await vi.waitFor(() => get({ socketPath: dir.file('b.sock') }), { timeout: 20_000, interval: 50 });
    await vi.waitFor(
      () => {
        const helpers = bindHelpersOf(emperor.pid);
        expect(helpers.map((h) => h.nice)).toEqual([19]);
        expect(helpers[0]?.pid).not.toBe(waiting?.pid);
      },
      { timeout: 20_000, interval: 50 },
    );
  });
});

