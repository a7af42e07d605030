// Every systemd unit the project ships passes `systemd-analyze verify` with no output at all: systemd 252 (Debian 12)
// only warns about what it does not know (Type=notify-reload, a misspelt key) and then runs the unit otherwise, so a
// warning is a failure here. CI installs systemd when systemd-analyze is missing (.ci/run).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/systemd-unit.js';

const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const skipReason = !ANALYZE && process.env.CI !== 'true' ? ' [SKIPPED: systemd-analyze is missing; apt-get install systemd]' : '';
if (skipReason) console.warn(`unit verification${skipReason}`);

/** The directories of shipped units, each with its .service and .socket files (verified together: a socket names its service). */
const UNIT_DIRS = ['systemd', 'vassals.example/guide-003/systemd'];
const unitsIn = (dir: string): string[] =>
  readdirSync(path.join(REPO, dir))
    .filter((f) => /\.(service|socket)$/.test(f))
    .sort();

/**
 * Runs systemd-analyze verify on the units of `dir`, copied into a temp directory. The units run /usr/bin/node, where
 * Debian's and NodeSource's packages put it; on a machine whose node is elsewhere, the copies name this one (verify
 * checks that the programs exist). Returns everything it printed, and its exit status.
 */
function verify(dir: string, edit: (text: string) => string = (t) => t): { output: string; status: number | null } {
  const tmp = mkdtempSync('/tmp/sv-units-');
  try {
    const files = unitsIn(dir).map((name) => {
      let text = edit(readFileSync(path.join(REPO, dir, name), 'utf8'));
      if (!existsSync('/usr/bin/node')) text = text.replaceAll('/usr/bin/node', process.execPath);
      writeFileSync(path.join(tmp, name), text);
      return path.join(tmp, name);
    });
    const run = spawnSync(ANALYZE!, ['verify', '--man=no', ...files], { encoding: 'utf8', timeout: 60_000 });
    return { output: `${run.stdout}${run.stderr}`.trim(), status: run.status };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe.skipIf(Boolean(skipReason))(`shipped systemd units${skipReason}`, () => {
  it('are where the docs say', () => {
    expect(unitsIn('systemd')).toEqual(['supervisor-notify.service', 'supervisor.service', 'supervisor.socket']);
    expect(unitsIn('vassals.example/guide-003/systemd')).toEqual(['supervisor.service']);
  });

  it.each(UNIT_DIRS)('%s/: systemd-analyze verify prints nothing and succeeds', (dir) => {
    expect(verify(dir)).toEqual({ output: '', status: 0 });
  });

  it('the check fails on what systemd only warns about (a misspelt value) and on a program that is not there', () => {
    const warned = verify('systemd', (t) => t.replace('KillMode=mixed', 'KillMode=mixd'));
    expect(warned.status).toBe(0);
    expect(warned.output).toMatch(/Failed to parse kill mode specification, ignoring: mixd/);
    const missing = verify('systemd', (t) => t.replace('ExecReload=/usr/bin/node', 'ExecReload=/usr/bin/no-such-node'));
    expect(missing.output).toMatch(/no-such-node is not executable/);
  });
});
