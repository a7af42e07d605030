import { appendFileSync, openSync, closeSync, fstatSync, mkdirSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stampOf, writtenBeforeLastChange } from '../../src/emperor/file-stamp.js';
import { untilClockPasses } from '../support/file-clock.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox('sv-stamp');

describe('stampOf', () => {
  it('is the same text from a BigInt stat of the descriptor a file was read through and from a later plain stat of its name', () => {
    // Times with nanoseconds that a double cannot hold exactly, an old one, and now.
    const times = [new Date('2026-12-03T08:55:01.123Z'), new Date(0), new Date()];
    for (const [i, time] of times.entries()) {
      const file = dir.file(`f${i}.ini`);
      writeFileSync(file, `[uwsgi]\ncommand = x${i}\n`);
      if (i < 2) utimesSync(file, time, time);
      const fd = openSync(file, 'r');
      try {
        expect(stampOf(statSync(file))).toBe(stampOf(fstatSync(fd, { bigint: true })));
      } finally {
        closeSync(fd);
      }
    }
  });

  it('changes with a write of the same size, once the clock has moved', () => {
    const file = dir.file('app.ini');
    writeFileSync(file, 'a');
    utimesSync(file, new Date(1_000_000), new Date(1_000_000));
    const before = stampOf(statSync(file));
    writeFileSync(file, 'b');
    expect(stampOf(statSync(file))).not.toBe(before);
  });
});

describe('writtenBeforeLastChange', () => {
  it('is false for a file just written, true once it is renamed in later, false again after a write; from plain and BigInt stats', async () => {
    mkdirSync(dir.file('staging'));
    const staged = dir.file('staging/app.ini');
    const file = dir.file('app.ini');
    writeFileSync(staged, '[uwsgi]\ncommand = x\n');
    expect(writtenBeforeLastChange(statSync(staged))).toBe(false);
    expect(writtenBeforeLastChange(statSync(staged, { bigint: true }))).toBe(false);
    await untilClockPasses(staged);
    renameSync(staged, file);
    expect(writtenBeforeLastChange(statSync(file))).toBe(true);
    expect(writtenBeforeLastChange(statSync(file, { bigint: true }))).toBe(true);
    appendFileSync(file, 'processes = 2\n');
    expect(writtenBeforeLastChange(statSync(file, { bigint: true }))).toBe(false);
  });

  it('is true for a file whose times were set back after the write (tar, cp -p, rsync)', () => {
    const file = dir.file('app.ini');
    writeFileSync(file, '[uwsgi]\n');
    utimesSync(file, new Date(1_000_000), new Date(1_000_000));
    expect(writtenBeforeLastChange(statSync(file, { bigint: true }))).toBe(true);
  });
});
