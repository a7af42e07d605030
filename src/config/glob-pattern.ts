import path from 'node:path';
import type { ConfigHost } from './config-host.js';

const MAGIC = /[*?[]/;

type Token = { readonly kind: 'star' } | { readonly kind: 'one' } | { readonly kind: 'char'; readonly test: (c: string) => boolean };

/** One path segment of a glob(3) pattern: `*`, `?`, `[...]` (`!` or `^` negates, `a-z` ranges), other characters as such. */
function tokenize(segment: string): Token[] {
  const chars = [...segment];
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'one' });
    else if (c === '[' && chars.indexOf(']', i + 2) > 0) {
      const close = chars.indexOf(']', i + 2);
      let body = chars.slice(i + 1, close);
      const negate = body[0] === '!' || body[0] === '^';
      if (negate) body = body.slice(1);
      const ranges: [string, string][] = [];
      for (let j = 0; j < body.length; j++) {
        if (body[j + 1] === '-' && j + 2 < body.length) {
          ranges.push([body[j]!, body[j + 2]!]);
          j += 2;
        } else ranges.push([body[j]!, body[j]!]);
      }
      tokens.push({ kind: 'char', test: (x) => ranges.some(([lo, hi]) => lo <= x && x <= hi) !== negate });
      i = close;
    } else tokens.push({ kind: 'char', test: (x) => x === c });
  }
  return tokens;
}

/**
 * Whether a name matches one glob segment. Dynamic programming over (pattern, name), so the time is bounded by
 * their lengths' product whatever the pattern: a regular expression built from `*a*a*a*b` could backtrack for ages.
 */
export function matchSegment(segment: string, name: string): boolean {
  const tokens = tokenize(segment);
  const chars = [...name];
  // reach[j]: the tokens so far can match the first j characters.
  let reach = Array<boolean>(chars.length + 1).fill(false);
  reach[0] = true;
  for (const token of tokens) {
    const next = Array<boolean>(chars.length + 1).fill(false);
    for (let j = 0; j <= chars.length; j++) {
      if (token.kind === 'star') next[j] = reach[j]! || (j > 0 && next[j - 1]!);
      else if (j > 0 && reach[j - 1]) next[j] = token.kind === 'one' || token.test(chars[j - 1]!);
    }
    reach = next;
  }
  return reach[chars.length]!;
}

/** Directory entries one `for-glob` may look at, over all the directories it lists: past this it is a scan, not a config. */
export const MAX_GLOB_NAMES = 100_000;

export type GlobResult = { readonly ok: true; readonly matches: string[] } | { readonly ok: false; readonly message: string };

/**
 * Expands a glob pattern the way uWSGI's `for-glob` calls glob(3) (GLOB_MARK | GLOB_NOCHECK): matches sorted,
 * directories marked with a trailing `/`, the pattern itself when nothing matches. Wildcards do not match a
 * leading `.`. A relative pattern is taken relative to `baseDir`; results are absolute. `**` is not special.
 * Bounded whatever the file system holds: it stops, with the reason, once more than `maxMatches` paths match or
 * more than MAX_GLOB_NAMES directory entries have been looked at, before building the rest.
 */
export function expandGlob(pattern: string, baseDir: string, host: ConfigHost, maxMatches = Infinity): GlobResult {
  const absolute = path.resolve(baseDir, pattern);
  const segments = absolute.split('/').filter(Boolean);
  let found = ['/'];
  let examined = 0;
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const next: string[] = [];
    for (const dir of found) {
      if (!MAGIC.test(segment)) {
        next.push(path.join(dir, segment));
        continue;
      }
      const names = host.listDir(dir, MAX_GLOB_NAMES - examined) ?? [];
      examined += names.length;
      if (examined > MAX_GLOB_NAMES) {
        return { ok: false, message: `the pattern makes more than ${MAX_GLOB_NAMES} directory entries to look at (stopped in ${dir}); narrow it` };
      }
      for (const name of names) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue;
        if (matchSegment(segment, name)) next.push(path.join(dir, name));
      }
      if (last && next.length > maxMatches) return { ok: false, message: `more than ${maxMatches} paths match; at most ${maxMatches} are allowed` };
    }
    found = next;
    if (found.length === 0) break;
  }
  const matches = found.filter((p) => host.pathKind(p) !== 'missing').sort();
  if (matches.length === 0) return { ok: true, matches: [pattern] };
  if (matches.length > maxMatches) return { ok: false, message: `more than ${maxMatches} paths match; at most ${maxMatches} are allowed` };
  return { ok: true, matches: matches.map((p) => (host.pathKind(p) === 'dir' ? `${p}/` : p)) };
}
