// The uWSGI peer of the bench, when uWSGI is installed: its private emperor serves a dropped vassal file and leaves
// no process behind.
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { uwsgiHotAdd, uwsgiMissing } from '../../bench/uwsgi.mjs';

/** Processes whose working directory is in one of the hot-add benchmark's temp dirs (uWSGI vassals run there). */
function hotAddProcesses(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`).startsWith('/tmp/bench-uwsgi-drop-');
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.skipIf(uwsgiMissing() !== undefined)('uWSGI peer', () => {
  it('times a dropped vassal file until its socket answers, then stops its own emperor and vassals', async () => {
    const r = await uwsgiHotAdd(1);
    expect(r.n).toBe(1);
    expect(r.median).toBeGreaterThan(0);
    expect(hotAddProcesses()).toEqual([]);
  }, 120_000);
});
