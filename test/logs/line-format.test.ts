import strftime from 'strftime';
import { describe, expect, it } from 'vitest';
import { formatDate, formatLine, isVerbatim, lineStyle, TAGGED_DATE } from '../../src/logs/line-format.js';
import { CTIME_FORMAT } from '../../src/config/options/index.js';

const origin = { vassal: 'app.ini', worker: 2, pid: 1234, generation: 3, stream: 'stderr' as const };
const at = Date.UTC(2024, 0, 2, 15, 4, 5, 67);

describe('line formats', () => {
  it('plain lines as printed, dated only with log-date (uWSGI\'s ctime format, or strftime)', () => {
    expect(isVerbatim(lineStyle({ format: 'plain', date: undefined }))).toBe(true);
    expect(formatLine('hi', origin, lineStyle({ format: 'plain', date: undefined }), at)).toBe('hi\n');
    const ctime = formatLine('hi', origin, lineStyle({ format: 'plain', date: { format: CTIME_FORMAT } }), at);
    expect(ctime).toBe(`${strftime('%a %b %e %H:%M:%S %Y', new Date(at))} - hi\n`);
    expect(ctime).toMatch(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d 2024 - hi\n$/);
  });

  it('tagged lines: time, vassal[worker], stream; log-date = false leaves out the time', () => {
    expect(formatLine('hi', origin, lineStyle({ format: 'tagged', date: undefined }), at)).toBe(`${formatDate(TAGGED_DATE, at)} - app.ini[2] stderr: hi\n`);
    expect(formatLine('hi', origin, lineStyle({ format: 'tagged', date: false }), at)).toBe('app.ini[2] stderr: hi\n');
  });

  it('json: one object per line with time, vassal, worker, pid, generation, stream, line', () => {
    const text = formatLine('say "hi"\t\u0001', origin, lineStyle({ format: 'json', date: { format: '%Y' } }), at);
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({ time: '2024-01-02T15:04:05.067Z', vassal: 'app.ini', worker: 2, pid: 1234, generation: 3, stream: 'stderr', line: 'say "hi"\t\u0001' });
  });

  it('a vassal run as a uWSGI app is not dated twice: no time of ours on tagged lines, unless log-date asks', () => {
    expect(lineStyle({ format: 'tagged', date: undefined }, true).date).toBeUndefined();
    expect(lineStyle({ format: 'tagged', date: { format: '%T' } }, true).date).toBe('%T');
    expect(lineStyle({ format: 'plain', date: undefined }, true).date).toBeUndefined();
  });

  it('formats milliseconds (%L) per line, the rest once per second', () => {
    expect(formatDate('%Y-%m-%dT%H:%M:%S.%L', at)).toBe(strftime('%Y-%m-%dT%H:%M:%S.067', new Date(at)));
    expect(formatDate('%S.%L', at + 1)).toBe(`${strftime('%S', new Date(at))}.068`);
    expect(formatDate('%S', at + 1000)).toBe(strftime('%S', new Date(at + 1000)));
  });
});
