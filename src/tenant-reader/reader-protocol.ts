import path from 'node:path';
import type { ConfigEntry } from '../config/config-entry.js';
import type { ConfigHost } from '../config/config-host.js';
import type { ConfigRead } from '../config/config-reader.js';
import { MAX_ENTRIES } from '../config/config-reader.js';
import { MAX_DIAGNOSTICS, type Diagnostic, type Severity } from '../config/diagnostic.js';
import type { VassalDefaults } from '../config/load-vassal.js';
import type { Observation, ObservationKind } from '../config/recording-host.js';
import { References, type Expansion } from '../config/references.js';

/** One vassal file to read. */
export interface ReaderFile {
  /** Absolute path of the vassal file (for relative paths, magic variables and file:line). */
  readonly file: string;
  /** The vassal file's text, as the emperor read it: the file is opened once, by the emperor's scanner. */
  readonly text: string;
}

/**
 * What the emperor sends a reader (as JSON on its stdin): one or more vassal files of the same owner, read in one
 * process. The reader drops to the uid/gid given on its command line before it reads this, and before it reads
 * anything a config names.
 */
export interface ReaderRequest {
  readonly files: readonly ReaderFile[];
  readonly defaults: VassalDefaults;
  /** The emperor's variables a tenant may see (tyrant-pass-env), added to the tenant's environment. */
  readonly passed: Readonly<Record<string, string>>;
  /** The emperor's working directory: `vassals-include` templates given relative resolve against it. */
  readonly cwd: string;
  /** When the emperor started (µs since the epoch): `%t`/`%T` are the same in every vassal. */
  readonly startedAtMicros: number;
}

/**
 * What a reader answers (JSON on its stdout): what the config reader found, and the expansion of every value the
 * option parser asked for (same length as `read.entries`, null where none was asked for). The emperor builds the
 * VassalConfig from these itself, with the same code as in default mode, so a reply can say nothing the tenant
 * could not have written into the vassal file literally. `checks`: findings about the config that only the owner's
 * rights can make (a `chdir` the owner cannot enter, a `touch-reload` path the owner cannot see).
 */
export interface ReaderReply {
  readonly read: ConfigRead;
  readonly expansions: readonly (Expansion | null)[];
  readonly checks: readonly Diagnostic[];
  /** What the config looked at besides its own file, with the owner's rights (see recording-host.ts). */
  readonly observations: readonly Observation[];
}

/**
 * A reader that fails in a way it can report: for the whole request (its privileges could not be dropped), or for
 * one file of it (an internal error while reading that file).
 */
export interface ReaderFailure {
  readonly failure: string;
}

/** The reader's answer to a request: one item per file, in the request's order. */
export interface ReaderReplies {
  readonly replies: readonly (ReaderReply | ReaderFailure)[];
}

/**
 * References that remember what each entry expanded to (the reader's side): the option parser expands exactly the
 * values of the options it uses, so the reader expands those and no others, as in default mode.
 */
export class RecordingReferences {
  readonly #inner: References;
  readonly #index: Map<ConfigEntry, number>;
  readonly expansions: (Expansion | null)[];

  constructor(entries: readonly ConfigEntry[], host: ConfigHost) {
    this.#inner = new References(entries, host);
    this.#index = new Map(entries.map((e, i) => [e, i]));
    this.expansions = entries.map(() => null);
  }

  expand(entry: ConfigEntry): Expansion {
    const expansion = this.#inner.expand(entry);
    const i = this.#index.get(entry);
    if (i !== undefined) this.expansions[i] = expansion;
    return expansion;
  }

  referencedNames(): Set<string> {
    return this.#inner.referencedNames();
  }
}

/** A host that reads nothing: the emperor's side of tyrant mode must never read what a tenant's config names. */
const NOTHING: ConfigHost = {
  readText: () => ({ ok: false, reason: 'not read by the emperor in tyrant mode' }),
  pathKind: () => 'missing',
  listDir: () => undefined,
  env: {},
  facts: { hostname: '', cpus: 1, uid: -1, user: '', gid: -1, group: '', cwd: '/', startedAtMicros: 0 },
};

/**
 * The emperor's side: hands the option parser the expansions the reader made. An entry the reader did not expand
 * (a reply that does not match the entries) is an error, never a read.
 */
export class ReplayedReferences {
  readonly #names: References;
  readonly #index: Map<ConfigEntry, number>;
  readonly #expansions: readonly (Expansion | null)[];

  constructor(entries: readonly ConfigEntry[], expansions: readonly (Expansion | null)[]) {
    // Which names are placeholders is a pure function of the entries' text: computed here, not taken from the reply.
    this.#names = new References(entries, NOTHING);
    this.#index = new Map(entries.map((e, i) => [e, i]));
    this.#expansions = expansions;
  }

  expand(entry: ConfigEntry): Expansion {
    const i = this.#index.get(entry);
    const expansion = i === undefined ? undefined : this.#expansions[i];
    return expansion ?? { value: entry.value, problems: ['the reader running as the file\'s owner did not expand this value'], external: false };
  }

  referencedNames(): Set<string> {
    return this.#names.referencedNames();
  }
}

/**
 * A reply bigger than this per file read is refused unread. Generous: the reader's own limits allow 16 MiB of
 * config text per file.
 */
export const MAX_REPLY_BYTES_PER_FILE = 64 * 1024 * 1024;

/** What a failing reader says about itself is the tenant's text like any other: kept this short. */
const MAX_FAILURE_TEXT = 1000;

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

class BadReply extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new BadReply(`${what} is not a string`);
  return v;
}

function list(v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new BadReply(`${what} is not a list`);
  if (v.length > max) throw new BadReply(`${what} has ${v.length} items, more than ${max}`);
  return v;
}

function lineNumber(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BadReply(`${what} is not a line number`);
  return v;
}

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'note'];

function diagnostic(v: unknown, what: string): Diagnostic {
  if (!isRecord(v)) throw new BadReply(`${what} is not an object`);
  const severity = v.severity;
  if (!SEVERITIES.includes(severity as Severity)) throw new BadReply(`${what}.severity is not one of ${SEVERITIES.join(', ')}`);
  if (v.external !== undefined && typeof v.external !== 'boolean') throw new BadReply(`${what}.external is not a boolean`);
  return Object.freeze({
    severity: severity as Severity,
    file: str(v.file, `${what}.file`),
    line: v.line === undefined || v.line === null ? undefined : lineNumber(v.line, `${what}.line`),
    key: v.key === undefined || v.key === null ? undefined : str(v.key, `${what}.key`),
    message: str(v.message, `${what}.message`),
    ...(v.external === true ? { external: true } : {}),
  });
}

function entry(v: unknown, what: string): ConfigEntry {
  if (!isRecord(v)) throw new BadReply(`${what} is not an object`);
  if (typeof v.bare !== 'boolean') throw new BadReply(`${what}.bare is not a boolean`);
  const baseDir = str(v.baseDir, `${what}.baseDir`);
  if (!path.isAbsolute(baseDir)) throw new BadReply(`${what}.baseDir is not an absolute path`);
  return Object.freeze({
    key: str(v.key, `${what}.key`),
    value: str(v.value, `${what}.value`),
    file: str(v.file, `${what}.file`),
    line: lineNumber(v.line, `${what}.line`),
    bare: v.bare,
    baseDir,
    stray: Object.freeze(list(v.stray, `${what}.stray`, Number.MAX_SAFE_INTEGER).map((s, i) => str(s, `${what}.stray[${i}]`))),
  });
}

function expansion(v: unknown, what: string): Expansion | null {
  if (v === null) return null;
  if (!isRecord(v)) throw new BadReply(`${what} is not an object`);
  return Object.freeze({
    value: str(v.value, `${what}.value`),
    problems: Object.freeze(list(v.problems, `${what}.problems`, Number.MAX_SAFE_INTEGER).map((p, i) => str(p, `${what}.problems[${i}]`))),
    // At worst a forged flag makes the emperor retry this vassal with backoff: nothing a tenant gains.
    external: v.external === true,
  });
}

const KINDS: readonly ObservationKind[] = ['read', 'kind', 'list'];
/** More than what a config can look at within the reader's own limits (10000 glob matches, 50000 options). */
const MAX_OBSERVATIONS = 200_000;
const MAX_OBSERVED_TEXT = 8192;

function observation(v: unknown, what: string): Observation {
  if (!isRecord(v)) throw new BadReply(`${what} is not an object`);
  if (!KINDS.includes(v.kind as ObservationKind)) throw new BadReply(`${what}.kind is not one of ${KINDS.join(', ')}`);
  const file = str(v.path, `${what}.path`);
  // The emperor stats these paths later: absolute, normal, and of a sane length, whatever the tenant sends.
  if (!path.isAbsolute(file) || path.normalize(file) !== file || file.length > 4096) throw new BadReply(`${what}.path is not an absolute path`);
  const seen = str(v.seen, `${what}.seen`);
  const stamp = str(v.stamp, `${what}.stamp`);
  if (seen.length > MAX_OBSERVED_TEXT || stamp.length > 200) throw new BadReply(`${what} is too long`);
  return Object.freeze({ kind: v.kind as ObservationKind, path: file, seen, stamp });
}

/** A failure a reader reported, shortened, or undefined when `json` is not one. */
export function failureOf(json: unknown): string | undefined {
  return isRecord(json) && typeof json.failure === 'string' ? json.failure.slice(0, MAX_FAILURE_TEXT) : undefined;
}

/**
 * Checks a reader's answer to a request of `count` files (see decodeReply); one item per file: its reply, or why
 * that file could not be read. Refused as a whole when it is not a list of `count` items.
 */
export function decodeReplies(json: unknown, count: number): Checked<Checked<ReaderReply>[]> {
  if (!isRecord(json) || !Array.isArray(json.replies)) return { ok: false, reason: 'not a reader reply' };
  if (json.replies.length !== count) return { ok: false, reason: `${json.replies.length} replies for ${count} files` };
  return {
    ok: true,
    value: json.replies.map((item: unknown) => {
      const failure = failureOf(item);
      return failure !== undefined ? { ok: false, reason: failure } : decodeReply(item);
    }),
  };
}

/**
 * Checks a reader's reply for one file, which comes from a process running as the tenant: every field is
 * type-checked and bounded, nothing is taken on trust. Returns the reply (frozen) or why it is refused.
 */
export function decodeReply(json: unknown): Checked<ReaderReply> {
  try {
    if (!isRecord(json) || !isRecord(json.read)) throw new BadReply('not a reader reply');
    const read = json.read;
    if (typeof read.sectionFound !== 'boolean') throw new BadReply('read.sectionFound is not a boolean');
    const entries = Object.freeze(list(read.entries, 'read.entries', MAX_ENTRIES).map((e, i) => entry(e, `read.entries[${i}]`)));
    const expansions = list(json.expansions, 'expansions', entries.length).map((e, i) => expansion(e, `expansions[${i}]`));
    if (expansions.length !== entries.length) throw new BadReply(`${expansions.length} expansions for ${entries.length} entries`);
    const diagnostics = list(read.diagnostics, 'read.diagnostics', MAX_DIAGNOSTICS + 1).map((d, i) => diagnostic(d, `read.diagnostics[${i}]`));
    const tested = list(read.tested, 'read.tested', MAX_ENTRIES).map((t, i) => str(t, `read.tested[${i}]`));
    const checks = list(json.checks, 'checks', MAX_DIAGNOSTICS).map((d, i) => diagnostic(d, `checks[${i}]`));
    const observations = list(json.observations ?? [], 'observations', MAX_OBSERVATIONS).map((o, i) => observation(o, `observations[${i}]`));
    return {
      ok: true,
      value: Object.freeze({
        read: Object.freeze({ entries, diagnostics: Object.freeze(diagnostics), tested: new Set(tested), sectionFound: read.sectionFound }),
        expansions: Object.freeze(expansions),
        checks: Object.freeze(checks),
        observations: Object.freeze(observations),
      }),
    };
  } catch (err) {
    if (err instanceof BadReply) return { ok: false, reason: err.message };
    throw err;
  }
}

/** The replies as JSON (the reader's side). Sets serialise as lists. */
export function encodeReplies(replies: readonly (ReaderReply | ReaderFailure)[]): string {
  return JSON.stringify({ replies: replies.map((r) => ('failure' in r ? r : plain(r))) });
}

/** One reply as the JSON value it travels as. */
export function plain(reply: ReaderReply): unknown {
  return { read: { ...reply.read, tested: [...reply.read.tested] }, expansions: reply.expansions, checks: reply.checks, observations: reply.observations };
}
