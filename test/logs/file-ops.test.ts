// Opening a log file whose mode or owner the emperor sets (logfile-chmod, logfile-chown): a link put in the log's
// place by whoever may write its directory must not make root change the file it leads to.
import { closeSync, linkSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LogFileError, openLogFile } from '../../src/logs/file-ops.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox();

/** A file standing in for /etc/shadow: mode 0600, some content. */
function secret(): string {
  const file = dir.file('secret');
  writeFileSync(file, 'root only\n', { mode: 0o600 });
  return file;
}

function refusal(run: () => unknown): LogFileError {
  try {
    run();
  } catch (err) {
    if (err instanceof LogFileError) return err;
    throw err;
  }
  throw new Error('expected a LogFileError');
}

describe('openLogFile with logfile-chmod or logfile-chown', () => {
  it('refuses a symbolic link in the log\'s place, changing nothing of what it leads to', () => {
    const target = secret();
    symlinkSync(target, dir.file('app.log'));
    const err = refusal(() => openLogFile({ path: dir.file('app.log'), mode: 0o644, allowDevices: false, backups: 0 }));
    expect(err.code).toBe('ELOOP');
    expect(err.message).toBe(`log file ${dir.file('app.log')} is a symbolic link: logfile-chmod and logfile-chown change only a file itself, never what a link leads to`);
    const owner = process.getuid?.() ?? 0;
    const err2 = refusal(() => openLogFile({ path: dir.file('app.log'), owner: { uid: owner, gid: 12345 }, allowDevices: false, backups: 0 }));
    expect(err2.code).toBe('ELOOP');
    expect(statSync(target).mode & 0o7777).toBe(0o600);
    expect(statSync(target).gid).not.toBe(12345);
    expect(readFileSync(target, 'utf8')).toBe('root only\n');
  });

  it('refuses a file with another hard link', () => {
    const target = secret();
    linkSync(target, dir.file('app.log'));
    const err = refusal(() => openLogFile({ path: dir.file('app.log'), mode: 0o644, allowDevices: false, backups: 0 }));
    expect(err.code).toBe('EMLINK');
    expect(statSync(target).mode & 0o7777).toBe(0o600);
  });

  it('without them, follows a link as before (an administrator may point a log elsewhere), and creates a file with one name', () => {
    const target = secret();
    symlinkSync(target, dir.file('linked.log'));
    closeSync(openLogFile({ path: dir.file('linked.log'), allowDevices: false, backups: 0 }));
    expect(statSync(target).mode & 0o7777).toBe(0o600);
    closeSync(openLogFile({ path: dir.file('new.log'), mode: 0o600, allowDevices: false, backups: 0 }));
    closeSync(openLogFile({ path: dir.file('new.log'), mode: 0o620, allowDevices: false, backups: 0 }));
    expect(statSync(dir.file('new.log')).mode & 0o7777).toBe(0o620);
  });
});
