import path from 'node:path';
import type { ConfigHost } from './config-host.js';
import { firstValue, type ConfigEntry } from './config-entry.js';
import { addDiagnostic, type Diagnostic } from './diagnostic.js';
import { DEFAULT_SECTIONS, splitIniLines, type IniEntry } from './ini-lines.js';
import { closerKind, closerName, ELSE, evaluateOpener, openerKind, substituteItem, type BlockKind, type Evaluation } from './logic-blocks.js';
import { expandMagic, magicTable, MAX_EXPANDED_LINE, type MagicFile } from './magic-vars.js';

/** Keys that splice another ini file in at their place (uWSGI: `ini`, and `include` for ini files). */
const INCLUDE_KEYS = new Set(['ini', 'include']);
/** Includes deeper than this are a runaway chain, not a layout. */
const MAX_INCLUDE_DEPTH = 32;
/** A file, with its includes and loops unrolled, that gives more options than this is a mistake (or an attack). */
export const MAX_ENTRIES = 50_000;
/** Bytes of all the files of one configuration together (an include in a loop can read the same file 10000 times). */
export const MAX_TEXT_READ = 16 * 1024 * 1024;

/** A line's place, for diagnostics about it. */
interface Where {
  readonly file: string;
  readonly line: number;
}

/**
 * The frame a top-level file is read in: where its relative paths resolve, and which file the upper-case magic
 * variables name. Included files keep the frame of the file that included them.
 */
interface Frame {
  readonly baseDir: string;
  /** Undefined for the command line: no magic variables there. */
  readonly top: MagicFile | undefined;
}

interface OpenBlock {
  readonly keyword: string;
  readonly kind: BlockKind;
  readonly line: number;
  readonly evaluation: Evaluation;
  inElse: boolean;
}

export interface ConfigRead {
  /** Options in the order uWSGI would assemble them. */
  readonly entries: readonly ConfigEntry[];
  readonly diagnostics: readonly Diagnostic[];
  /** Names that `if-opt`/`if-not-opt` tested: they are placeholders, not typos. */
  readonly tested: ReadonlySet<string>;
  /** False when a top-level file has none of the sections asked for (so it gave no options at all). */
  readonly sectionFound: boolean;
  /** The section the top-level file was read from (`uwsgi` unless it has only another one we read). */
  readonly section: string;
}

/** A template and where it was asked for (the emperor's `vassals-include` line). */
export interface TemplateRef {
  readonly path: string;
  readonly source: Where;
}

/**
 * Reads config text into options with uWSGI's file language: sections, magic variables, logic blocks, `ini =`
 * includes (spliced in place, cycles refused). Never throws: every problem is a diagnostic with file:line.
 */
class Reader {
  readonly entries: ConfigEntry[] = [];
  readonly diagnostics: Diagnostic[] = [];
  readonly tested = new Set<string>();
  sectionFound = true;
  section = 'uwsgi';
  readonly #host: ConfigHost;
  /** Files being read, innermost last, as `path:section`: an include of one of them is a cycle. */
  readonly #stack: string[] = [];
  #overflow = false;
  #textRead = 0;

  constructor(host: ConfigHost) {
    this.#host = host;
  }

  /** `external`: the cause lies outside the files' text (a file to read is missing), so a later try may work. */
  error(where: Where, message: string, key?: string, external = false): void {
    addDiagnostic(this.diagnostics, { severity: 'error', file: where.file, line: where.line || undefined, key, message, ...(external ? { external } : {}) });
  }

  warning(where: Where, message: string, key?: string): void {
    addDiagnostic(this.diagnostics, { severity: 'warning', file: where.file, line: where.line || undefined, key, message });
  }

  /**
   * Reads one file's text. `includedFrom` is the line that asked for it (absent for a top-level file);
   * `inBlock` is set when that line was inside a logic block, where openers would nest.
   */
  readText(text: string, file: MagicFile, sections: readonly string[], frame: Frame, includedFrom?: Where, inBlock = false): void {
    // A top-level file is reported as it was named; an included one by its absolute path, which works from anywhere.
    const display = includedFrom ? file.absolute : file.named;
    this.#textRead += Buffer.byteLength(text);
    if (this.#textRead > MAX_TEXT_READ) {
      if (!this.#overflow) this.error(includedFrom ?? { file: display, line: 0 }, `the configuration and its includes are more than ${MAX_TEXT_READ} bytes; the rest is not read`);
      this.#overflow = true;
      return;
    }
    const lines = splitIniLines(text, display, sections);
    for (const d of lines.diagnostics) addDiagnostic(this.diagnostics, d);
    if (!lines.foundSection) {
      const wanted = sections.map((s) => `[${s}]`).join(' or ');
      const others = lines.sections.length ? `; it has ${lines.sections.map((s) => `[${s}]`).join(', ')}` : '; it has no sections';
      if (includedFrom) this.error(includedFrom, `${file.named} has no ${wanted} section${others}`);
      else this.diagnostics.push({ severity: 'error', file: file.named, message: `no ${wanted} section${others}` });
      // A file named on the command line (line 0) is top-level too: it gave no options at all.
      if (!includedFrom || includedFrom.line === 0) this.sectionFound = false;
      return;
    }
    const section = sections.find((s) => lines.sections.includes(s)) ?? sections[0] ?? 'uwsgi';
    if (frame.top === file) this.section = section;
    const own: MagicFile = { ...file, section };
    const table = magicTable(own, frame.top && frame.top !== file ? frame.top : own, frame.baseDir, this.#host.facts);
    this.#stack.push(`${file.absolute}:${section}`);
    this.#readEntries(
      lines.entries.map((e) => {
        const key = expandMagic(e.key, table);
        const value = expandMagic(e.value, table);
        if (key.overflow || value.overflow) this.error(e, `the line is longer than ${MAX_EXPANDED_LINE} characters once its magic variables are expanded; the rest is kept as written`, key.text);
        return { ...e, key: key.text, value: value.text, stray: value.stray };
      }),
      frame,
      inBlock,
    );
    this.#stack.pop();
  }

  /** Entries given on the command line: no magic variables, no logic; `--ini FILE` includes. */
  readCommandLine(entries: readonly IniEntry[], frame: Frame): void {
    for (const entry of entries) this.emit({ ...entry, stray: [] }, frame, false);
  }

  #readEntries(entries: readonly (IniEntry & { stray: readonly string[] })[], frame: Frame, inBlock: boolean): void {
    let block: OpenBlock | undefined;
    const file = entries[0]?.file ?? '';
    for (const entry of entries) {
      const { key, value } = entry;
      const kind = openerKind(key);
      if (kind) {
        if (block || inBlock) {
          const outer = block ? `the ${block.keyword} block opened at line ${block.line}` : 'a block in the file that includes this one';
          this.error(entry, `${key} inside ${outer}: logic blocks cannot be nested (uWSGI exits with "recursive logic in options is not supported")`, key);
          continue;
        }
        const evaluation = evaluateOpener(key, value, {
          host: this.#host,
          baseDir: frame.baseDir,
          exported: (name) => {
            this.tested.add(name);
            return firstValue(this.entries, name)?.value;
          },
        })!;
        if (evaluation.kind === 'error') this.error(entry, `${key} = ${value}: ${evaluation.message}; the block is skipped`, key, evaluation.external);
        block = { keyword: key, kind, line: entry.line, evaluation, inElse: false };
        continue;
      }
      const closes = closerKind(key);
      if (closes) {
        if (!block) this.warning(entry, `${key} without an open for or if-* block; ignored`, key);
        else if (closes !== 'any' && closes !== block.kind) {
          this.warning(entry, `${key} closes the ${block.keyword} block opened at line ${block.line}; write ${closerName(block.kind)}`, key);
        }
        block = undefined;
        continue;
      }
      if (key === ELSE) {
        if (!block || block.kind !== 'if') this.error(entry, `else without an if-* block${block ? ` (the open block is ${block.keyword}, line ${block.line})` : ''}`, key);
        else if (block.inElse) this.error(entry, `a second else in the ${block.keyword} block opened at line ${block.line}`, key);
        else block.inElse = true;
        continue;
      }
      if (!block) {
        this.emit(entry, frame, inBlock);
        continue;
      }
      const { evaluation } = block;
      if (evaluation.kind === 'for') {
        for (const item of evaluation.items) this.emit({ ...entry, value: substituteItem(value, item) }, frame, true);
      } else if (evaluation.kind === 'if') {
        const applies = block.inElse ? !evaluation.pass : evaluation.pass;
        // uwsgi_logic_opt_else adds the value as written: %(_) is only the tested value in the if branch.
        const context = block.inElse ? undefined : evaluation.context;
        if (applies) this.emit({ ...entry, value: context === undefined ? value : substituteItem(value, context) }, frame, true);
      }
    }
    if (block) {
      this.error({ file, line: block.line }, `the ${block.keyword} block opened here is never closed: end it with ${closerName(block.kind)}`, block.keyword);
    }
  }

  /** Adds one option, or splices in the file an `ini =` names. */
  emit(entry: IniEntry & { stray: readonly string[] }, frame: Frame, inBlock: boolean): void {
    if (this.#overflow) return;
    if (INCLUDE_KEYS.has(entry.key)) {
      this.#include(entry, frame, inBlock);
      return;
    }
    if (this.entries.length >= MAX_ENTRIES) {
      if (!this.#overflow) this.error(entry, `the configuration expands to more than ${MAX_ENTRIES} options; the rest is not read`);
      this.#overflow = true;
      return;
    }
    this.entries.push({ key: entry.key, value: entry.value, file: entry.file, line: entry.line, bare: entry.bare, baseDir: frame.baseDir, stray: entry.stray });
  }

  #include(entry: IniEntry, frame: Frame, inBlock: boolean): void {
    const spec = entry.value;
    if (spec === '') {
      this.error(entry, `${entry.key} needs a file name: ${entry.key} = other.ini or ${entry.key} = other.ini:section`, entry.key);
      return;
    }
    if (/[$@%]\(/.test(spec)) {
      this.error(
        entry,
        `${entry.key} = ${spec}: an include is read when its line is read, so only magic variables (%d, %n, ...) are expanded in its file name, not $(...), @(...) or %(...)`,
        entry.key,
      );
      return;
    }
    const { named, sections } = this.#splitSection(spec, entry, frame);
    const absolute = path.resolve(frame.baseDir, named);
    const cycle = this.#stack.findIndex((s) => sections.some((section) => s === `${absolute}:${section}`));
    if (cycle >= 0) {
      const chain = [...this.#stack.slice(cycle).map((s) => s.replace(/:[^:]*$/, '')), absolute].map((p) => path.basename(p)).join(' -> ');
      this.error(entry, `include cycle: ${chain}; ${entry.key} = ${spec} is not read again`, entry.key);
      return;
    }
    if (this.#stack.length >= MAX_INCLUDE_DEPTH) {
      this.error(entry, `includes nest deeper than ${MAX_INCLUDE_DEPTH} files; ${entry.key} = ${spec} is not read`, entry.key);
      return;
    }
    const read = this.#host.readText(absolute);
    if (!read.ok) {
      this.error(entry, `cannot read ${entry.key} = ${spec} (${absolute}): ${read.reason}`, entry.key, true);
      return;
    }
    // A file named on the command line is a top-level file of its own: its frame starts here.
    const magicFile: MagicFile = { named, absolute, section: sections[0] ?? 'uwsgi' };
    const next: Frame = frame.top ? frame : { baseDir: path.dirname(absolute), top: magicFile };
    this.readText(read.text, magicFile, sections, next, entry, inBlock);
  }

  /**
   * `file.ini:section` picks a section; `:section` reads another section of the current file. A name that exists
   * as a file is taken whole, so a file whose name has a colon still works (uWSGI splits at the last colon).
   */
  #splitSection(spec: string, entry: IniEntry, frame: Frame): { named: string; sections: readonly string[] } {
    const { file, sections } = splitSectionSpec(spec, (p) => this.#host.pathKind(path.resolve(frame.baseDir, p)) !== 'missing');
    return { named: file === '' ? entry.file : file, sections };
  }
}

/**
 * `file.ini:section` as uWSGI's `--ini` and `ini =` read it: the part after the last colon (when no `/` follows it)
 * picks the section, `file.ini:` or no colon the default ones. A name that exists as a file is taken whole, so a
 * file whose name has a colon still works. `:section` alone gives file `''` (another section of the current file).
 * `exists` says whether a path names something. Pure.
 */
export function splitSectionSpec(spec: string, exists: (file: string) => boolean): { file: string; sections: readonly string[] } {
  if (exists(spec)) return { file: spec, sections: DEFAULT_SECTIONS };
  const colon = spec.lastIndexOf(':');
  if (colon < 0 || colon < spec.lastIndexOf('/')) return { file: spec, sections: DEFAULT_SECTIONS };
  const section = spec.slice(colon + 1);
  return { file: spec.slice(0, colon), sections: section === '' ? DEFAULT_SECTIONS : [section] };
}

function topFile(file: string, cwd: string): MagicFile {
  return { named: file, absolute: path.resolve(cwd, file), section: 'uwsgi' };
}

/**
 * Reads a vassal file whose text is already known (the emperor hashed it), with the emperor's templates
 * (`vassals-include`, prepended) and `vassal-set` lines (appended). Relative paths resolve against the vassal
 * file's directory, as they do in uWSGI's emperor, which runs each vassal there.
 */
export function readVassalText(
  text: string,
  file: string,
  host: ConfigHost,
  defaults: { readonly include?: readonly TemplateRef[]; readonly set?: readonly IniEntry[]; readonly account?: readonly IniEntry[] } = {},
  sections: readonly string[] = DEFAULT_SECTIONS,
): ConfigRead {
  const reader = new Reader(host);
  const top = topFile(file, host.facts.cwd);
  const frame: Frame = { baseDir: path.dirname(top.absolute), top };
  for (const template of defaults.include ?? []) {
    const absolute = path.resolve(host.facts.cwd, template.path);
    const read = host.readText(absolute);
    if (!read.ok) reader.error(template.source, `cannot read vassals-include ${template.path}: ${read.reason}`, 'vassals-include', true);
    else reader.readText(read.text, { named: template.path, absolute, section: 'uwsgi' }, DEFAULT_SECTIONS, frame, template.source);
  }
  // The emperor's default account, before the file's own lines. A file that names a uid has an account of its own:
  // the defaults go whole (a vassal's uid with the emperor's gid would be a mix nobody asked for). One that names only
  // a gid loses the default gid and keeps the default uid: it did not ask to run as root.
  const accountAt = reader.entries.length;
  for (const entry of defaults.account ?? []) reader.emit({ ...entry, stray: [] }, frame, false);
  const accountEnd = reader.entries.length;
  reader.readText(text, { ...top, section: sections[0] ?? top.section }, sections, frame);
  const own = new Set(reader.entries.slice(accountEnd).map((e) => e.key));
  if (own.has('uid') || own.has('gid')) {
    const kept = reader.entries.slice(accountAt, accountEnd).filter((e) => !own.has('uid') && e.key !== 'gid');
    reader.entries.splice(accountAt, accountEnd - accountAt, ...kept);
  }
  for (const entry of defaults.set ?? []) reader.emit({ ...entry, stray: [] }, frame, false);
  return { entries: reader.entries, diagnostics: reader.diagnostics, tested: reader.tested, sectionFound: reader.sectionFound, section: reader.section };
}

/**
 * Reads options given on the command line, in order; `--ini FILE` (and a bare `FILE.ini`) splices that file in,
 * read with its own directory as the base of its relative paths. Flags' relative paths resolve against the cwd.
 */
export function readCommandLine(entries: readonly IniEntry[], host: ConfigHost): ConfigRead {
  const reader = new Reader(host);
  reader.readCommandLine(entries, { baseDir: host.facts.cwd, top: undefined });
  return { entries: reader.entries, diagnostics: reader.diagnostics, tested: reader.tested, sectionFound: reader.sectionFound, section: reader.section };
}
