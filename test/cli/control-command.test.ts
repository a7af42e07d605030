import { describe, expect, it } from 'vitest';
import { formatLine } from '../../src/cli/control-command.js';

describe('supervisor --logs lines', () => {
  const line = (text: string) => ({ time: Date.parse('2026-01-01T12:04:05.123Z'), worker: 2, pid: 4711, generation: 1, stream: 'stdout' as const, line: text });

  it('say when, which vassal and worker, which pid and stream', () => {
    expect(formatLine('app.ini', line('ready'))).toBe('12:04:05.123 app.ini[2] 4711 out| ready');
    expect(formatLine('app.ini', { ...line('oops'), stream: 'stderr' })).toBe('12:04:05.123 app.ini[2] 4711 err| oops');
    expect(formatLine('app.ini', { time: Date.parse('2026-01-01T12:04:05.123Z'), stream: 'file', line: 'direct' })).toBe('12:04:05.123 app.ini[-] - log| direct');
  });

  it("never pass a worker's control characters to the terminal: escape sequences (ESC, CSI) are written out", () => {
    expect(formatLine('app.ini', line('\u001b]0;pwned\u0007red\u001b[31m \u009b2J\ttab'))).toBe('12:04:05.123 app.ini[2] 4711 out| \\x1b]0;pwned\\x07red\\x1b[31m \\x9b2J\ttab');
    expect(formatLine('a\u001bb.ini', line('x'))).toBe('12:04:05.123 a?b.ini[2] 4711 out| x');
  });
});
