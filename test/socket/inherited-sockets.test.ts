import { describe, expect, it } from 'vitest';
import { kernelAddress, listenFds } from '../../src/socket/inherited-sockets.js';

describe('listenFds: the sockets systemd passed (sd_listen_fds(3))', () => {
  it('for this process: fd 3 on, named by LISTEN_FDNAMES', () => {
    expect(listenFds({ LISTEN_FDS: '2', LISTEN_PID: '42', LISTEN_FDNAMES: 'web:api' }, 42)).toEqual([
      { fd: 3, fdName: 'web' },
      { fd: 4, fdName: 'api' },
    ]);
  });

  it('meant for another process (a parent that exec\'d us without clearing them): none', () => {
    expect(listenFds({ LISTEN_FDS: '2', LISTEN_PID: '41' }, 42)).toEqual([]);
  });

  it('a daemon takes those its starting command (its parent) was given, and no others', () => {
    expect(listenFds({ LISTEN_FDS: '1', LISTEN_PID: '41' }, 42, 41)).toEqual([{ fd: 3, fdName: 'unknown' }]);
    expect(listenFds({ LISTEN_FDS: '1', LISTEN_PID: '40' }, 42, 41)).toEqual([]);
  });

  it('a malformed or absurd LISTEN_FDS is an error, not a guess', () => {
    expect(() => listenFds({ LISTEN_FDS: 'x', LISTEN_PID: '42' }, 42)).toThrow(/LISTEN_FDS="x" is not a number/);
    expect(() => listenFds({ LISTEN_FDS: '5000', LISTEN_PID: '42' }, 42)).toThrow(/more descriptors than the emperor accepts/);
  });
});

describe('kernelAddress: /proc/net/tcp{,6} addresses as a vassal writes them', () => {
  it('IPv4 in host byte order', () => {
    expect(kernelAddress('0100007F')).toBe('127.0.0.1');
    expect(kernelAddress('00000000')).toBe('0.0.0.0');
  });

  it('IPv6 shortened as RFC 5952 says: the longest run of zero groups becomes ::', () => {
    expect(kernelAddress('00000000000000000000000000000000')).toBe('::');
    expect(kernelAddress('00000000000000000000000001000000')).toBe('::1');
    // 2001:db8:0:0:1:0:0:1: of two equally long runs, the first one
    expect(kernelAddress('B80D0120000000000000010001000000')).toBe('2001:db8::1:0:0:1');
    // 2001:db8:0:0:1:0:0:0: the longer one
    expect(kernelAddress('B80D0120000000000000010000000000')).toBe('2001:db8:0:0:1::');
  });
});
