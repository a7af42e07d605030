import { describe, expect, it } from 'vitest';
import { findVassalFile, MAX_REQUEST_BYTES, parseRequest } from '../../src/control/control-protocol.js';

describe('parseRequest', () => {
  it('reads each command, with the defaults of its fields', () => {
    expect(parseRequest('{"command":"status"}')).toEqual({ command: 'status' });
    expect(parseRequest('{"command":"reload"}')).toEqual({ command: 'reload', wait: true });
    expect(parseRequest('{"command":"reload","vassal":"app.ini","wait":false}')).toEqual({ command: 'reload', vassal: 'app.ini', wait: false });
    expect(parseRequest('{"command":"restart-worker","vassal":"app","worker":2}')).toEqual({ command: 'restart-worker', vassal: 'app', worker: 2, force: false });
    expect(parseRequest('{"command":"logs","vassal":"app","follow":true}')).toEqual({ command: 'logs', vassal: 'app', lines: 50, follow: true });
    expect(parseRequest('{"command":"stop"}')).toEqual({ command: 'stop' });
  });

  it('refuses what is not a request, with the reason', () => {
    expect(parseRequest('status')).toEqual({ error: expect.stringContaining('one line of JSON') });
    expect(parseRequest('[1]')).toEqual({ error: expect.stringContaining('a JSON object') });
    expect(parseRequest('{"command":"rm -rf"}')).toEqual({ error: expect.stringMatching(/^unknown command "rm -rf"; commands: status, metrics, reload/) });
    expect(parseRequest('{"command":"__proto__"}')).toEqual({ error: expect.stringContaining('unknown command') });
    expect(parseRequest('{"command":"status","vassal":"x"}')).toEqual({ error: 'status takes no field "vassal"' });
    expect(parseRequest('{"command":"restart-worker","vassal":"a","worker":0}')).toEqual({ error: expect.stringContaining('worker must be a worker id') });
    expect(parseRequest('{"command":"restart-worker","vassal":"a","worker":"1"}')).toEqual({ error: expect.stringContaining('worker must be') });
    expect(parseRequest('{"command":"restart-worker","worker":1}')).toEqual({ error: 'restart-worker: vassal is required' });
    expect(parseRequest('{"command":"reload","wait":"yes"}')).toEqual({ error: 'reload: wait must be true or false' });
    expect(parseRequest('{"command":"logs","vassal":"a","lines":1e9}')).toEqual({ error: expect.stringContaining('lines must be') });
    expect(parseRequest(`{"command":"status","x":"${'a'.repeat(MAX_REQUEST_BYTES)}"}`)).toEqual({ error: `request longer than ${MAX_REQUEST_BYTES} bytes` });
  });
});

describe('findVassalFile', () => {
  const files = [
    { name: 'app.ini', file: '/a/app.ini' },
    { name: 'app.ini', file: '/b/app.ini' },
    { name: 'web.ini', file: '/a/web.ini' },
  ];

  it('takes a name, a path, or a name without its extension', () => {
    expect(findVassalFile('web.ini', files)).toEqual({ file: '/a/web.ini' });
    expect(findVassalFile('web', files)).toEqual({ file: '/a/web.ini' });
    expect(findVassalFile('/b/app.ini', files)).toEqual({ file: '/b/app.ini' });
  });

  it('asks for the path when a name is ambiguous, and lists the vassals when none matches', () => {
    expect(findVassalFile('app.ini', files)).toEqual({ error: '"app.ini" names 2 vassals: /a/app.ini, /b/app.ini; give the full path' });
    expect(findVassalFile('nope', files)).toEqual({ error: 'no vassal "nope"; vassals: app.ini, app.ini, web.ini' });
    expect(findVassalFile('nope', [])).toEqual({ error: 'no vassal "nope" (the emperor has none)' });
  });
});
