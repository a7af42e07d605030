import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_CONFIG_FILE_BYTES, systemHost } from '../../src/config/config-host.js';
import { tempDir } from '../support/temp-dir.js';

let dir: { path: string; remove: () => Promise<void> };

beforeEach(async () => {
  dir = await tempDir('host');
});

afterEach(() => dir.remove());

describe('the real config host', () => {
  it('reads files, tells files from directories, lists directories, and never throws', async () => {
    await mkdir(path.join(dir.path, 'sub'));
    await writeFile(path.join(dir.path, 'a.ini'), '[uwsgi]\n');
    const host = systemHost({ ONLY: 'this' });
    expect(host.readText(path.join(dir.path, 'a.ini'))).toEqual({ ok: true, text: '[uwsgi]\n' });
    expect(host.readText(path.join(dir.path, 'nope.ini'))).toEqual({ ok: false, reason: 'no such file' });
    expect(host.readText(path.join(dir.path, 'sub'))).toEqual({ ok: false, reason: 'is a directory, not a regular file' });
    expect([host.pathKind(path.join(dir.path, 'a.ini')), host.pathKind(path.join(dir.path, 'sub')), host.pathKind(path.join(dir.path, 'x'))]).toEqual(['file', 'dir', 'missing']);
    expect([...(host.listDir(dir.path) ?? [])].sort()).toEqual(['a.ini', 'sub']);
    expect(host.listDir(path.join(dir.path, 'x'))).toBeUndefined();
    expect(host.listDir(path.join(dir.path, 'a.ini'))).toBeUndefined();
    // With a limit, one name more than the limit at most: enough to tell "too many".
    expect(host.listDir(dir.path, 0)).toHaveLength(1);
    expect(host.listDir(dir.path, 1)).toHaveLength(2);
    expect(host.env).toEqual({ ONLY: 'this' });
    expect(host.facts.cpus).toBeGreaterThan(0);
  });

  it('refuses a file too big to be a config file, without reading it', async () => {
    const big = path.join(dir.path, 'big.log');
    await writeFile(big, Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1, 'x'));
    expect(systemHost().readText(big)).toEqual({ ok: false, reason: `${MAX_CONFIG_FILE_BYTES + 1} bytes is too big for a config file (limit ${MAX_CONFIG_FILE_BYTES})` });
  });
});
