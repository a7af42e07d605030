import { describe, expect, it } from 'vitest';
import { backupName, backupsToPrune } from '../../src/logs/rotation.js';

const FILE = '/var/log/app.log';
const T = 1_700_000_000_123;

describe('rotated file names (uWSGI: FILE.<unix time>, or log-backupname)', () => {
  it('names the backup after the time in seconds; a second rotation in the same second gets .1, .2 past the highest', () => {
    expect(backupName(FILE, T, undefined, [])).toBe('/var/log/app.log.1700000000');
    expect(backupName(FILE, T, undefined, ['app.log', 'app.log.1700000000'])).toBe('/var/log/app.log.1700000000.1');
    // The first of that second was pruned: the next is still newer than every one kept.
    expect(backupName(FILE, T, undefined, ['app.log.1700000000.1', 'app.log.1700000000.2'])).toBe('/var/log/app.log.1700000000.3');
    expect(backupName(FILE, T, '/var/log/app.old', ['app.log.1700000000'])).toBe('/var/log/app.old');
  });

  it('prunes the oldest of our own backups only, keeping log-backups of them', () => {
    const names = ['app.log', 'app.log.1', 'app.log.2.gz', 'app.log-20240101', 'other.log.1700000000', 'app.log.1700000005', 'app.log.1700000000.1', 'app.log.1700000000', 'app.log.1700000000.10', 'app.log.1700000000.9'];
    expect(backupsToPrune(FILE, names, 2)).toEqual(['/var/log/app.log.1700000000', '/var/log/app.log.1700000000.1', '/var/log/app.log.1700000000.9']);
    expect(backupsToPrune(FILE, names, 0)).toHaveLength(5);
    expect(backupsToPrune(FILE, names, 10)).toEqual([]);
  });

  it('treats a file name with regular expression characters literally', () => {
    expect(backupsToPrune('/l/a+b.log', ['aab.log.1700000000', 'a+b.log.1700000000'], 0)).toEqual(['/l/a+b.log.1700000000']);
  });
});
