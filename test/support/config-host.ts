import path from 'node:path';
import type { ConfigHost, HostFacts } from '../../src/config/config-host.js';

export const FACTS: HostFacts = Object.freeze({
  hostname: 'web1',
  cpus: 4,
  uid: 1000,
  user: 'deploy',
  gid: 1001,
  group: 'www',
  cwd: '/home/deploy',
  startedAtMicros: 1_700_000_000_123_456,
});

/**
 * An in-memory file system for the config reader: `files` maps absolute paths to contents; a directory exists
 * when a file is under it (or it is listed in `dirs`). Lets reader tests stay pure and say exactly what exists.
 */
export function fakeHost(
  files: Readonly<Record<string, string>> = {},
  options: { env?: Readonly<Record<string, string>>; dirs?: readonly string[]; facts?: Partial<HostFacts> } = {},
): ConfigHost & { reads: string[] } {
  const dirs = new Set<string>();
  for (const p of [...Object.keys(files).map((f) => path.dirname(f)), ...(options.dirs ?? [])]) {
    for (let dir = p; dir !== '/'; dir = path.dirname(dir)) dirs.add(dir);
  }
  dirs.add('/');
  const reads: string[] = [];
  return {
    reads,
    readText(file) {
      reads.push(file);
      const text = files[file];
      if (text !== undefined) return { ok: true, text };
      return { ok: false, reason: dirs.has(file) ? 'is a directory' : 'no such file' };
    },
    pathKind(p) {
      return p in files ? 'file' : dirs.has(p) ? 'dir' : 'missing';
    },
    listDir(dir) {
      if (!dirs.has(dir)) return undefined;
      const names = new Set<string>();
      for (const p of [...Object.keys(files), ...dirs]) {
        if (p !== dir && path.dirname(p) === dir) names.add(path.basename(p));
      }
      return [...names];
    },
    env: options.env ?? {},
    facts: { ...FACTS, ...options.facts },
  };
}
