import path from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import type { ConfigHost } from './config-host.js';
import { firstValue, isPlaceholderSetter, type ConfigEntry } from './config-entry.js';
import { strayProblem } from './magic-vars.js';
import { evaluateExpression, isExpression } from './placeholder-math.js';

/** An expansion can grow (a placeholder used twice in another, used twice in another, ...); past this it is a mistake. */
export const MAX_VALUE_LENGTH = 65_536;
/** All the @(file) reads of one configuration together: beyond this it is a loop over big files, not a config. */
export const MAX_BYTES_READ = 16 * 1024 * 1024;

export interface Expansion {
  /** The value with every reference that resolved expanded; the others are left as written. */
  readonly value: string;
  /** Why a reference did not resolve, one phrase each, e.g. `environment variable PORT is not set ...`. */
  readonly problems: readonly string[];
  /**
   * True when a problem lies outside the config's text: an unset `$(VAR)`, an `@(file)` that cannot be read. The
   * same text may work later (see Diagnostic.external).
   */
  readonly external: boolean;
}

const ENV_REF = /\$\(([^()]*)\)/g;
const FILE_REF = /@\(([^()]*)\)/g;
const PLACEHOLDER_REF = /%\(([^()]*)\)/g;
const ENV_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(:-|-)([\s\S]*)$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * Expands `$(ENV)`, `$(ENV:-default)`, `$(ENV-default)`, `@(file)` and `%(name)` in option values, in that order,
 * as uWSGI does after assembling the option list (docs "ParsingOrder"). `%(name)` is the first value given for
 * `name` (any key, or `set-placeholder = name=value`), itself fully expanded; `%(a + b)` is placeholder math.
 * Pure apart from `@(file)`, read through the host. A reference that does not resolve is left as written and
 * reported, so the caller decides: an error for options we use, verbatim for the others (uWSGI's behaviour).
 */
export class References {
  readonly #entries: readonly ConfigEntry[];
  readonly #host: ConfigHost;
  readonly #placeholders = new Map<string, { readonly value: string; readonly problems: readonly string[] }>();
  #names: string[] | undefined;
  #bytesRead = 0;
  /** Problems caused outside the text, as phrased in `problems`: placeholders pass problems on as plain strings. */
  readonly #external = new Set<string>();

  constructor(entries: readonly ConfigEntry[], host: ConfigHost) {
    this.#entries = entries;
    this.#host = host;
  }

  /** Expands one entry's value; stray `%` sequences in it count as problems. Never throws. */
  expand(entry: ConfigEntry): Expansion {
    const expansion = this.#expand(entry.value, entry.baseDir, []);
    const problems = entry.stray.length === 0 ? expansion.problems : [...entry.stray.map(strayProblem), ...expansion.problems];
    return { value: expansion.value, problems, external: problems.some((p) => this.#external.has(p)) };
  }

  #externalProblem(problems: string[], problem: string): void {
    this.#external.add(problem);
    problems.push(problem);
  }

  /** Names used as `%(name)` anywhere, and the names inside `%(a + b)` expressions: placeholders, not typos. */
  referencedNames(): Set<string> {
    const names = new Set<string>();
    for (const entry of this.#entries) {
      for (const m of entry.value.matchAll(PLACEHOLDER_REF)) {
        const body = m[1]!;
        for (const token of isExpression(body) ? body.split(' ') : [body]) if (/^[^\d\s+*/-]/.test(token)) names.add(token);
      }
    }
    return names;
  }

  #expand(text: string, baseDir: string, chain: readonly string[]): { value: string; problems: string[] } {
    const problems: string[] = [];
    // Each pass grows the value one reference at a time and stops at the limit, so that a line with thousands of
    // references to a long placeholder cannot build a string of gigabytes before it is measured.
    let length = text.length;
    let tooLong = false;
    const within = (ref: string, expanded: string): string => {
      if (tooLong || length - ref.length + expanded.length > MAX_VALUE_LENGTH) {
        tooLong = true;
        return ref;
      }
      length += expanded.length - ref.length;
      return expanded;
    };
    let value = text;
    if (value.includes('$(')) value = value.replace(ENV_REF, (ref, body: string) => within(ref, this.#env(ref, body, problems)));
    if (!tooLong && value.includes('@(')) value = value.replace(FILE_REF, (ref, body: string) => (tooLong ? ref : within(ref, this.#file(ref, body, baseDir, problems))));
    if (!tooLong && value.includes('%(')) value = value.replace(PLACEHOLDER_REF, (ref, body: string) => (tooLong ? ref : within(ref, this.#placeholder(ref, body, chain, problems))));
    if (tooLong) return { value: text, problems: [...problems, `the value expands to more than ${MAX_VALUE_LENGTH} characters`] };
    return { value, problems };
  }

  #env(ref: string, body: string, problems: string[]): string {
    const env = this.#host.env;
    const m = ENV_DEFAULT.exec(body);
    if (m) {
      const [, name, op, fallback] = m as unknown as [string, string, string, string];
      const set = env[name];
      // `:-` also replaces an empty value; `-` only an unset one (uWSGI docs "ParsingOrder").
      return set === undefined || (op === ':-' && set === '') ? fallback : set;
    }
    const set = env[body];
    if (set !== undefined) return set;
    this.#externalProblem(problems, `environment variable ${body} is not set (to give a default, write $(${body}:-value))`);
    return ref;
  }

  #file(ref: string, body: string, baseDir: string, problems: string[]): string {
    const scheme = SCHEME.exec(body);
    if (scheme) {
      problems.push(`${ref} reads from ${scheme[1]}://, which is not supported here; only @(path) of a file is`);
      return ref;
    }
    const file = path.resolve(baseDir, body);
    if (this.#bytesRead > MAX_BYTES_READ) {
      problems.push(`${ref}: not read, the @(file) references of this configuration have read more than ${MAX_BYTES_READ} bytes already`);
      return ref;
    }
    const read = this.#host.readText(file);
    if (!read.ok) {
      this.#externalProblem(problems, `${ref}: cannot read ${file}: ${read.reason}`);
      return ref;
    }
    this.#bytesRead += Buffer.byteLength(read.text);
    return read.text.replace(/\r?\n$/, '');
  }

  #placeholder(ref: string, body: string, chain: readonly string[], problems: string[]): string {
    if (body === '_') {
      problems.push('%(_) has a value only inside a for or if-* block (the current item, or the value the if-* tested)');
      return ref;
    }
    if (isExpression(body)) {
      const result = evaluateExpression(body, (name) => {
        const resolved = this.#resolve(name, chain, problems);
        return resolved;
      });
      for (const name of result.missing) problems.push(this.#missing(name, ref));
      return result.value ?? ref;
    }
    const resolved = this.#resolve(body, chain, problems);
    if (resolved === undefined) {
      problems.push(this.#missing(body, ref));
      return ref;
    }
    return resolved;
  }

  /** The fully expanded first value of `name`, or undefined when nothing defines it. */
  #resolve(name: string, chain: readonly string[], problems: string[]): string | undefined {
    if (chain.includes(name)) {
      problems.push(`placeholders refer to each other in a circle: ${[...chain.slice(chain.indexOf(name)), name].join(' -> ')}`);
      return `%(${name})`;
    }
    const memo = this.#placeholders.get(name);
    if (memo) {
      problems.push(...memo.problems);
      return memo.value;
    }
    const entry = firstValue(this.#entries, name);
    if (!entry) return undefined;
    const expanded = this.#expand(entry.value, entry.baseDir, [...chain, name]);
    const own = entry.stray.map((s) => `${strayProblem(s)} (in ${name}, ${entry.file}:${entry.line})`);
    const result = { value: expanded.value, problems: [...own, ...expanded.problems] };
    // Results inside a circle depend on where the walk entered it; only memoise clean ones.
    if (!result.problems.some((p) => p.startsWith('placeholders refer'))) this.#placeholders.set(name, result);
    problems.push(...result.problems);
    return result.value;
  }

  #missing(name: string, ref: string): string {
    this.#names ??= [...new Set(this.#entries.flatMap((e) => (isPlaceholderSetter(e.key) ? [e.value.split('=')[0]!.trim()] : [e.key])))];
    const guess = this.#names.length ? closest(name, this.#names) : undefined;
    const hint = guess && distance(name, guess) <= 2 ? `; did you mean %(${guess})?` : '';
    return `no option or placeholder named "${name}" for ${ref}${hint}`;
  }
}
