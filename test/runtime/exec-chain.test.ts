import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { assertTrustedChain, GETENT, SETPRIV, SH, setprivArgs, untrustedProgram } from '../../src/runtime/exec-chain.js';
import { sandbox } from '../support/sandbox.js';
import { isRoot } from '../support/test-users.js';

const dir = sandbox();

describe('the exec chain', () => {
  it('trusts the system programs it runs as root', () => {
    for (const program of [SETPRIV, SH, GETENT]) expect(untrustedProgram(program)).toBeUndefined();
    expect(() => assertTrustedChain()).not.toThrow();
  });

  it.skipIf(!isRoot)('refuses a program that someone other than root may replace, or one in such a directory', async () => {
    const bin = dir.file('bin');
    await mkdir(bin);
    await writeFile(`${bin}/tool`, '#!/bin/sh\n', { mode: 0o755 });
    await chmod(dir.path, 0o755);
    expect(untrustedProgram(`${bin}/tool`)).toBeUndefined();
    await chmod(`${bin}/tool`, 0o775);
    expect(untrustedProgram(`${bin}/tool`)).toBe(`${bin}/tool is writable by users other than root (mode 775)`);
    await chmod(`${bin}/tool`, 0o755);
    await chmod(bin, 0o777);
    expect(untrustedProgram(`${bin}/tool`)).toBe(`${bin} is writable by users other than root (mode 777)`);
    expect(() => assertTrustedChain([`${bin}/tool`])).toThrow(`refusing to run ${bin}/tool as root: ${bin} is writable`);
    expect(untrustedProgram(`${bin}/missing`)).toBe(`${bin}/missing: not found`);
  });

  it('puts credentials before the parent-death signal, and ambient capabilities in both sets', () => {
    expect(setprivArgs({ uid: 5, gid: 6, initGroups: false })).toEqual(['--reuid', '5', '--regid', '6', '--clear-groups', '--pdeathsig', 'KILL', '--']);
    expect(setprivArgs(undefined, { ambientCaps: ['net_bind_service'], pdeathsig: false })).toEqual([
      '--inh-caps',
      '+net_bind_service',
      '--ambient-caps',
      '+net_bind_service',
      '--',
    ]);
  });
});
