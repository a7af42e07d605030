import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countLines, lastLines, LINE_LIMIT, LineSplitter, takeLines } from '../../src/logs/line-splitter.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('line splitter', () => {
  it('returns complete lines, keeps the unfinished one until its newline or the end', () => {
    const s = new LineSplitter();
    expect(s.push(b('a\nb')).toString()).toBe('a\n');
    expect(s.push(b('c\nd\n')).toString()).toBe('bc\nd\n');
    expect(s.push(b('e')).toString()).toBe('');
    expect(s.end().toString()).toBe('e\n');
    expect(s.end().toString()).toBe('');
  });

  it('splits a line longer than the limit (16 KiB by default) into lines of at most the limit, whole or unfinished', () => {
    expect(LINE_LIMIT).toBe(16_384);
    const s = new LineSplitter(4);
    expect(s.push(b('abcdefghij\nxy')).toString()).toBe('abcd\nefgh\nij\n');
    // An unfinished line is cut as soon as it reaches the limit: nothing longer is ever held.
    expect(s.push(b('zzzzz')).toString()).toBe('xyzz\n');
    expect(s.end().toString()).toBe('zzz\n');
  });

  it('never cuts inside a UTF-8 character', () => {
    const s = new LineSplitter(4);
    const out = s.push(b('aaé€b\n')).toString();
    expect(out.split('\n').filter(Boolean)).toEqual(['aaé', '€b']);
    expect(out).not.toContain('\uFFFD');
  });

  it('loses no byte and makes no line longer than the limit, whatever the chunks (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[ab\n]{0,40}$/), { maxLength: 20 }), fc.integer({ min: 2, max: 10 }), (chunks, limit) => {
        const s = new LineSplitter(limit);
        const out = chunks.map((c) => s.push(b(c)).toString()).join('') + s.end().toString();
        const input = chunks.join('');
        expect(out.replace(/\n/g, '')).toBe(input.replace(/\n/g, ''));
        for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(limit);
      }),
    );
  });

  it('takes whole lines up to a size, counts and picks the last lines', () => {
    const lines = b('aa\nbbb\nc\r\n');
    expect(takeLines(lines, 4).map(String)).toEqual(['aa\n', 'bbb\nc\r\n']);
    expect(takeLines(lines, 1).map(String)).toEqual(['aa\n', 'bbb\nc\r\n']);
    expect(takeLines(lines, 100).map(String)).toEqual(['aa\nbbb\nc\r\n', '']);
    expect(countLines(lines)).toBe(3);
    expect(lastLines(lines, 2)).toEqual(['bbb', 'c']);
    expect(lastLines(b('\n\nx\n'), 5)).toEqual(['', '', 'x']);
  });
});
