import path from 'node:path';
import type { ConfigHost } from './config-host.js';

const MAGIC = /[*?[]/;

/** One path segment of a glob(3) pattern as a RegExp: `*`, `?` and `[...]` (with `!` or `^` to negate). */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body[0] === '!' || body[0] === '^';
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, (m) => `\\${m}`);
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    // A class glob(3) would take but RegExp refuses (a reversed range like [z-a]): match the segment literally.
    return new RegExp(`^${segment.replace(/[.*+?^${}()|[\]\\]/g, (m) => `\\${m}`)}$`);
  }
}

/**
 * Expands a glob pattern the way uWSGI's `for-glob` calls glob(3) (GLOB_MARK | GLOB_NOCHECK): matches sorted,
 * directories marked with a trailing `/`, the pattern itself when nothing matches. Wildcards do not match a
 * leading `.`. A relative pattern is taken relative to `baseDir`; results are absolute. `**` is not special.
 */
export function expandGlob(pattern: string, baseDir: string, host: ConfigHost): string[] {
  const absolute = path.resolve(baseDir, pattern);
  const segments = absolute.split('/').filter(Boolean);
  let found = ['/'];
  for (const segment of segments) {
    const next: string[] = [];
    for (const dir of found) {
      if (!MAGIC.test(segment)) {
        next.push(path.join(dir, segment));
        continue;
      }
      const re = segmentRegExp(segment);
      for (const name of host.listDir(dir) ?? []) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue;
        if (re.test(name)) next.push(path.join(dir, name));
      }
    }
    found = next;
    if (found.length === 0) break;
  }
  const matches = found.filter((p) => host.pathKind(p) !== 'missing').sort();
  if (matches.length === 0) return [pattern];
  return matches.map((p) => (host.pathKind(p) === 'dir' ? `${p}/` : p));
}
