import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { writeExclusive } from '../../src/runtime/exclusive-file.js';
import { readPidfile, removePidfile, writePidfile } from '../../src/runtime/pidfile.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();
const saved = process.umask();
afterEach(() => {
  process.umask(saved);
});

describe('pidfile', () => {
  it.each([0o077, 0o000, 0o022])('has mode 0644 exactly under umask %o', (umask) => {
    process.umask(umask);
    writePidfile(dir.file('a.pid'), 4242);
    expect(statSync(dir.file('a.pid')).mode & 0o7777).toBe(0o644);
    expect(readPidfile(dir.file('a.pid'))).toBe(4242);
    expect(readdirSync(dir.path)).toEqual(['a.pid']);
  });

  it('does not write through a symlink planted at a temp name (the old, predictable one)', () => {
    writeFileSync(dir.file('victim'), 'precious\n');
    // The name the pidfile writer used to use: pidfile + pid + .tmp.
    symlinkSync(dir.file('victim'), dir.file(`app.pid.${4242}.tmp`));
    writePidfile(dir.file('app.pid'), 4242);
    expect(readFileSync(dir.file('victim'), 'utf8')).toBe('precious\n');
    expect(readPidfile(dir.file('app.pid'))).toBe(4242);
  });

  it('creates its temp file exclusively, without following links: a symlink at the name is refused, its target untouched', () => {
    writeFileSync(dir.file('victim'), 'precious\n');
    symlinkSync(dir.file('victim'), dir.file('tmp'));
    expect(() => writeExclusive(dir.file('tmp'), '1\n', 0o644)).toThrow(/EEXIST/);
    symlinkSync(dir.file('nowhere'), dir.file('dangling'));
    expect(() => writeExclusive(dir.file('dangling'), '1\n', 0o644)).toThrow(/EEXIST/);
    expect(existsSync(dir.file('nowhere'))).toBe(false);
    expect(readFileSync(dir.file('victim'), 'utf8')).toBe('precious\n');
  });

  it('replaces a stale pidfile, and is removed only while it names us', () => {
    writeFileSync(dir.file('app.pid'), '999999\n');
    writePidfile(dir.file('app.pid'), 4242);
    expect(readPidfile(dir.file('app.pid'))).toBe(4242);
    removePidfile(dir.file('app.pid'), 4343);
    expect(existsSync(dir.file('app.pid'))).toBe(true);
    removePidfile(dir.file('app.pid'), 4242);
    expect(existsSync(dir.file('app.pid'))).toBe(false);
  });
});
