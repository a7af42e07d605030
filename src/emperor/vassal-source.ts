import path from 'node:path';
import picomatch from 'picomatch';

/**
 * Where vassal files are looked for: one `emperor` value, a directory or a glob. Pure: matching only, no file system.
 * A directory `/etc/vassals` is the glob `/etc/vassals/*` narrowed to vassal names.
 */
export interface VassalSource {
  /** The value as given (absolute). */
  readonly spec: string;
  /** The longest directory without wildcards: what must exist, and where the walk starts. */
  readonly base: string;
  /**
   * How many directory levels below `base` files can be: 0 for a directory or `dir/*.ini`, 2 for
   * `base/x/y/*.ini`; undefined for `**` (unbounded, walked to MAX_DEPTH).
   */
  readonly depth: number | undefined;
  /** Whether a directory `level` levels below base (1 = a child of base) may lead to vassal files. */
  descendInto(name: string, level: number): boolean;
  /** Whether an absolute path under base is a vassal file of this source. */
  matches(file: string): boolean;
}

/** How deep a `**` pattern is walked at most, so that a pattern at / cannot walk the whole disk forever. */
export const MAX_DEPTH = 8;

/**
 * Whether a file name is a vassal name: ends with one of `extensions`, not hidden. Editors' companions never
 * qualify: `.x.ini.swp`, `x.ini~`, `4913`, emacs' `.#x.ini` lock links (hidden), `x.ini.bak`.
 */
export function isVassalName(name: string, extensions: readonly string[]): boolean {
  return !name.startsWith('.') && extensions.some((ext) => name.endsWith(ext) && name.length > ext.length);
}

/** Reads one `emperor` value (already absolute). Never throws. */
export function vassalSource(spec: string, extensions: readonly string[]): VassalSource {
  const scan = picomatch.scan(spec);
  if (!scan.isGlob) {
    const base = path.resolve(spec);
    return {
      spec,
      base,
      depth: 0,
      descendInto: () => false,
      matches: (file) => path.dirname(file) === base && isVassalName(path.basename(file), extensions),
    };
  }
  const base = path.resolve(scan.base || '/');
  const segments = scan.glob.split('/');
  const unbounded = segments.includes('**');
  const segmentMatchers = segments.map((s) => picomatch(s, { dot: false }));
  const whole = picomatch(spec, { dot: false });
  return {
    spec,
    base,
    depth: unbounded ? undefined : segments.length - 1,
    descendInto: (name, level) => (unbounded ? level <= MAX_DEPTH : level < segments.length && segmentMatchers[level - 1]!(name)),
    matches: (file) => whole(file) && isVassalName(path.basename(file), extensions),
  };
}

/**
 * A warning when a glob can never name a vassal file, e.g. `*.conf` while only `.ini` files are vassals; else
 * undefined.
 */
export function sourceWarning(spec: string, extensions: readonly string[]): string | undefined {
  const last = path.basename(spec);
  const literalEnd = /\.[A-Za-z0-9_-]+$/.exec(last)?.[0];
  if (!picomatch.scan(spec).isGlob || !literalEnd || extensions.some((ext) => ext.endsWith(literalEnd) || literalEnd.endsWith(ext))) return undefined;
  return `emperor ${spec} can match no vassal file: only names ending in ${extensions.join(', ')} are vassals; set emperor-extension = ${literalEnd} to use these files`;
}
