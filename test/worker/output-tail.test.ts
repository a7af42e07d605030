import { describe, expect, it } from 'vitest';
import { OutputTail } from '../../src/worker/output-tail.js';

describe('OutputTail', () => {
  it('keeps an unfinished line per stream, so streams never mix', () => {
    const tail = new OutputTail();
    expect(tail.push('stdout', 'hal')).toEqual([]);
    expect(tail.push('stderr', 'error: x\n')).toEqual(['error: x']);
    expect(tail.push('stdout', 'f a line\n')).toEqual(['half a line']);
    expect(tail.lines()).toEqual(['error: x', 'half a line']);
  });

  it('counts an unterminated last line at end of stream, strips CR, and keeps only the last lines', () => {
    const tail = new OutputTail(2);
    tail.push('stdout', 'a\r\nb\nc');
    expect(tail.flush('stdout')).toEqual(['c']);
    expect(tail.flush('stdout')).toEqual([]);
    expect(tail.lines()).toEqual(['b', 'c']);
  });

  it('cuts lines longer than the limit, even before their newline arrives', () => {
    const tail = new OutputTail(5, 4);
    expect(tail.push('stdout', 'abcdefgh')).toEqual(['abcd…']);
    expect(tail.push('stdout', 'xyz123456\n')).toEqual(['xyz1…']);
  });
});
