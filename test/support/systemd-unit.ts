import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The checkout's root, which the shipped units call /opt/supervisor. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A unit file as systemd reads it: per section, its `Key=value` lines in order (a key may repeat). */
export type Unit = ReadonlyMap<string, readonly (readonly [string, string])[]>;

/**
 * Reads a unit file (systemd.syntax(7)): `[Section]` headers, `Key=value` lines, `#`/`;` comments, a trailing `\`
 * continuing a line. Throws on a line it cannot read, so a test never acts on half a unit.
 */
export function readUnit(file: string): Unit {
  const sections = new Map<string, [string, string][]>();
  let section: [string, string][] | undefined;
  const lines = readFileSync(file, 'utf8').replace(/\\\n/g, ' ').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = sections.get(header[1]!) ?? [];
      sections.set(header[1]!, section);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || !section) throw new Error(`${file}:${i + 1}: not a Key=value line in a section: ${raw}`);
    section.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  });
  return sections;
}

/** The last value of `key` in `section` (systemd: a later line overrides), or undefined. */
export function unitValue(unit: Unit, section: string, key: string): string | undefined {
  return unit.get(section)?.filter(([k]) => k === key).at(-1)?.[1];
}

/** Where the paths the units name are in a test: each `from` prefix is replaced by `to`. */
export type PathMap = readonly (readonly [string, string])[];

/** Replaces every path prefix of `map` in `text` (longest first, so /opt/supervisor/x is not cut by /opt). */
export function mapPaths(text: string, map: PathMap): string {
  let out = text;
  for (const [from, to] of [...map].sort((a, b) => b[0].length - a[0].length)) out = out.replaceAll(from, to);
  return out;
}

/**
 * The argv of an Exec*= line of `[Service]`, as systemd would run it here: words split on blanks, `$NAME`/`${NAME}`
 * replaced from `vars`, paths mapped. Refuses what this reader does not implement (quotes, `-@+!:` prefixes,
 * specifiers), rather than run something else than systemd would.
 */
export function execCommand(unit: Unit, key: string, map: PathMap, vars: Readonly<Record<string, string>> = {}): string[] {
  const value = unitValue(unit, 'Service', key);
  if (value === undefined) throw new Error(`the unit has no ${key}=`);
  if (/["'%\\]/.test(value) || /^[-@+!:]/.test(value)) throw new Error(`${key}=${value}: quotes, specifiers and prefixes are not supported by this test reader`);
  return value
    .split(/\s+/)
    .map((word) =>
      word.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => {
        const v = vars[name];
        if (v === undefined) throw new Error(`${key}= uses $${name}, which the test does not set`);
        return v;
      }),
    )
    .map((word) => mapPaths(word, map));
}
