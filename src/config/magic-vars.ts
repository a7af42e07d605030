import path from 'node:path';
import type { HostFacts } from './config-host.js';

/** The file a line was read from, as magic variables see it. */
export interface MagicFile {
  /** The path as it was named (in `ini =`, on the command line, or found in the vassal directory). */
  readonly named: string;
  /** Absolute path. */
  readonly absolute: string;
  readonly section: string;
}

/** Letters whose upper-case form refers to the top-level file instead (uWSGI 1.9.18: %O %P %S %D %E %N %C %X). */
const FILE_LETTERS = ['o', 'p', 's', 'd', 'e', 'n', 'c', 'x'] as const;

function fileVars(file: MagicFile): Record<(typeof FILE_LETTERS)[number], string> & Record<string, string> {
  const dir = path.dirname(file.absolute);
  const base = path.basename(file.absolute);
  const dot = base.lastIndexOf('.');
  const vars: Record<string, string> = {
    o: file.named,
    p: file.absolute,
    s: base,
    // uWSGI keeps the trailing slash (config_magic_table_fill), which is why files write `%dvassals` or `%d../x`.
    d: dir === '/' ? '/' : `${dir}/`,
    e: dot >= 0 ? base.slice(dot + 1) : '',
    n: dot >= 0 ? base.slice(0, dot) : base,
    c: path.basename(dir),
    x: `${file.named}:${file.section}`,
  };
  // %0..%9: the components of the directory, from the root down.
  dir.split('/').filter(Boolean).slice(0, 10).forEach((part, i) => (vars[String(i)] = part));
  return vars as Record<(typeof FILE_LETTERS)[number], string> & Record<string, string>;
}

/**
 * The magic table for one file: what `%x` expands to. `own` is the file being read, `top` the first non-template
 * file (the vassal file when `own` is a vassals-include template or an `ini =` include), per uWSGI's docs
 * "Configuration: Magic variables". `%v` is the directory relative paths resolve against (uWSGI: the vassals
 * directory, its working directory).
 */
export function magicTable(own: MagicFile, top: MagicFile, baseDir: string, facts: HostFacts): ReadonlyMap<string, string> {
  const table = new Map<string, string>();
  for (const [letter, value] of Object.entries(fileVars(own))) table.set(letter, value);
  const topVars = fileVars(top);
  for (const letter of FILE_LETTERS) table.set(letter.toUpperCase(), topVars[letter]);
  table.set('v', baseDir);
  table.set('h', facts.hostname);
  table.set('k', String(facts.cpus));
  table.set('u', String(facts.uid));
  table.set('U', facts.user);
  table.set('g', String(facts.gid));
  table.set('G', facts.group);
  table.set('t', String(Math.floor(facts.startedAtMicros / 1_000_000)));
  table.set('T', String(facts.startedAtMicros));
  table.set('%', '%');
  return table;
}

export interface MagicExpansion {
  readonly text: string;
  /** `%` sequences left as written because they are not magic variables here (e.g. `%V`, `%j`, a lone `%`). */
  readonly stray: readonly string[];
  /** True when expanding stopped at MAX_EXPANDED_LINE characters; the rest of the text is kept as written. */
  readonly overflow?: boolean;
}

/** A line of a config file, magic variables expanded, is never this long unless something is wrong. */
export const MAX_EXPANDED_LINE = 1024 * 1024;

/**
 * Expands magic variables in one piece of text, in one pass (an expansion is never expanded again). `%(` is left
 * for placeholders. Unlike uWSGI, which silently drops an unknown `%z`, an unknown sequence is kept as written and
 * reported in `stray`, so that options we use can refuse it and options we ignore keep it verbatim.
 */
export function expandMagic(text: string, table: ReadonlyMap<string, string>): MagicExpansion {
  if (!text.includes('%')) return { text, stray: [] };
  let out = '';
  const stray: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (out.length > MAX_EXPANDED_LINE) return { text: out + text.slice(i), stray, overflow: true };
    const c = text[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '(') {
      out += '%';
      continue;
    }
    const value = next === undefined ? undefined : table.get(next);
    if (value === undefined) {
      const seq = next === undefined ? '%' : `%${next}`;
      stray.push(seq);
      out += seq;
    } else out += value;
    i++;
  }
  return { text: out, stray };
}

/** Why a stray `%` sequence is refused in an option we use, with the fix. */
export function strayProblem(seq: string): string {
  if (seq === '%') return 'a "%" at the end of the value is not a magic variable; write %% for a literal %';
  return `${seq} is not a magic variable this reader knows (docs/options.md lists them); write %% for a literal %`;
}
