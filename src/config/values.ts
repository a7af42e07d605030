import path from 'node:path';
import { parse as shellParse } from 'shell-quote';
import { constants as osConstants } from 'node:os';
import { parseVassalSocketAddress, type VassalSocketAddress } from './socket-address.js';

/** What a value parser is given besides the raw text. */
export interface ValueContext {
  /** Directory relative paths resolve against: the vassal file's directory, or the cwd for the command line. */
  readonly baseDir: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/**
 * A kind of option value: its name and unit for the docs, and a strict parser.
 * Parsers never throw; they return the reason a value was refused, phrased to complete "invalid value: ...".
 */
export interface ValueType<T> {
  readonly name: string;
  /** Shown in docs/options.md and --help, e.g. "seconds". */
  readonly unit?: string;
  /** False for free text, where anything goes and a suspicious value is only a warning. */
  readonly typed: boolean;
  /** True when the parser reads quotes, so it judges `;` and `#` itself (`sh -c 'a ; b'` is no inline comment). */
  readonly quoting?: boolean;
  parse(raw: string, ctx: ValueContext): Parsed<T>;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

export const text: ValueType<string> = { name: 'string', typed: false, parse: (raw) => ok(raw) };

export const filePath: ValueType<string> = {
  name: 'path',
  typed: true,
  parse: (raw, ctx) => (raw === '' ? fail('expected a path, got an empty value') : ok(path.resolve(ctx.baseDir, raw))),
};

const INTEGER = /^[+-]?\d+$/;

/** Integers are read strictly: `4 workers` or `4.5` is an error, where uWSGI's atoi would silently read 4. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER, unit?: string): ValueType<number> {
  return {
    name: 'integer',
    unit,
    typed: true,
    parse(raw) {
      if (!INTEGER.test(raw)) return fail(`expected an integer${unit ? ` (${unit})` : ''}, got ${JSON.stringify(raw)}`);
      const n = Number(raw);
      if (n < min || n > max) {
        const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
        return fail(`expected an integer ${range}, got ${raw}`);
      }
      return ok(n);
    },
  };
}

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * The longest duration a timer can hold: Node's setTimeout takes at most 2^31-1 ms (about 24.8 days) and fires a
 * longer one after 1 ms, which would turn a mercy into an instant SIGKILL and a backoff into a busy loop.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * Non-negative seconds, at most MAX_TIMER_SECONDS; a decimal fraction is allowed (`0.5`), which uWSGI's integer
 * options do not take. Every duration option becomes a timer somewhere, hence the bound.
 */
export const seconds: ValueType<number> = {
  name: 'number',
  unit: 'seconds',
  typed: true,
  parse(raw) {
    if (!DECIMAL.test(raw)) return fail(`expected a number of seconds (e.g. 10 or 0.5), got ${JSON.stringify(raw)}`);
    const value = Number(raw);
    if (!(value <= MAX_TIMER_SECONDS)) {
      return fail(`${raw} seconds is longer than a timer can wait: at most ${MAX_TIMER_SECONDS} seconds (about 24.8 days)`);
    }
    return ok(value);
  },
};

const FALSE = new Set(['false', 'off', 'no', '0']);
const TRUE = new Set(['true', 'on', 'yes', '1', '']);

/**
 * uWSGI treats every value but false/off/no/0 as true, so `vacuum = ture` silently means true there. We accept
 * the same false words (case-insensitive) and refuse anything that is not a clear yes either.
 */
export const boolean: ValueType<boolean> = {
  name: 'boolean',
  typed: true,
  parse(raw) {
    const v = raw.toLowerCase();
    if (FALSE.has(v)) return ok(false);
    if (TRUE.has(v)) return ok(true);
    return fail(`expected true/false (also on/off, yes/no, 1/0), got ${JSON.stringify(raw)}`);
  },
};

/** A permission mode in octal as chmod takes it: `660`, `0660`. */
export const octalMode: ValueType<number> = {
  name: 'octal mode',
  typed: true,
  parse: (raw) => (/^0?[0-7]{3}$/.test(raw) ? ok(parseInt(raw, 8)) : fail(`expected an octal mode such as 660, got ${JSON.stringify(raw)}`)),
};

/**
 * A program and its arguments, split the way a POSIX shell splits words (quotes and backslashes honoured), but no
 * shell is run: pipes, redirections, `;` and `&&` are refused rather than passed to the program as words.
 */
export const command: ValueType<readonly string[]> = {
  name: 'command',
  typed: true,
  quoting: true,
  parse(raw) {
    if (raw === '') return fail('expected a program and its arguments, got an empty value');
    let words: ReturnType<typeof shellParse>;
    try {
      // Keep `$VAR` literal: expansion belongs to the shell we do not run (use $(VAR) for config-time expansion).
      words = shellParse(raw, (name) => `$${name}`);
    } catch (err) {
      return fail(`cannot split into words: ${(err as Error).message}`);
    }
    const argv: string[] = [];
    for (const word of words) {
      if (typeof word === 'string') {
        argv.push(word);
      } else if ('op' in word && word.op === 'glob') {
        argv.push(word.pattern);
      } else if ('comment' in word) {
        return fail(
          `"#${word.comment}" would be a shell comment, but no shell runs this command; uWSGI has no inline comments either: put the comment on its own line`,
        );
      } else {
        const op = 'op' in word ? word.op : String(word);
        return fail(`shell operator "${op}" is not supported because no shell runs the command; use command = sh -c '...' if you need one`);
      }
    }
    if (argv.length === 0) return fail('expected a program and its arguments');
    return ok(Object.freeze(argv));
  },
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The name of an environment variable, as a shell can export it: letters, digits and _, not starting with a digit. */
export const envName: ValueType<string> = {
  name: 'NAME',
  typed: true,
  parse: (raw) => (ENV_NAME.test(raw) ? ok(raw) : fail(`expected a variable name made of letters, digits and _, got ${JSON.stringify(raw)}`)),
};

/** `KEY=VALUE` for the worker's environment. The VALUE is free text, so a `#` in it is only worth a warning. */
export const envAssignment: ValueType<readonly [string, string]> = {
  name: 'KEY=VALUE',
  typed: false,
  parse(raw) {
    const eq = raw.indexOf('=');
    const key = eq < 0 ? raw : raw.slice(0, eq);
    if (eq <= 0 || !ENV_NAME.test(key)) {
      return fail(`expected KEY=VALUE with KEY made of letters, digits and _, got ${JSON.stringify(raw)}`);
    }
    return ok([key, raw.slice(eq + 1)] as const);
  },
};

/** A vassal's socket: an address, or `systemd:NAME`, a socket systemd passed the emperor (socket-address.ts). */
export const vassalSocketAddress: ValueType<VassalSocketAddress> = {
  name: 'socket address',
  typed: true,
  parse: (raw, ctx) => {
    const r = parseVassalSocketAddress(raw, ctx.baseDir);
    return 'reason' in r ? fail(r.reason) : ok(r);
  },
};

/** A signal by name (`TERM`, `SIGTERM`) or number; returned as the name Node's process.kill takes. */
export const signal: ValueType<NodeJS.Signals> = {
  name: 'signal',
  typed: true,
  parse(raw) {
    const signals = osConstants.signals as Record<string, number>;
    const upper = raw.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (name in signals) return ok(name as NodeJS.Signals);
    if (/^\d+$/.test(raw)) {
      const byNumber = Object.keys(signals).find((k) => signals[k] === Number(raw));
      if (byNumber) return ok(byNumber as NodeJS.Signals);
    }
    return fail(`expected a signal name such as TERM or INT, got ${JSON.stringify(raw)}`);
  },
};

/** An fd number for s6-style readiness, or `auto`: the first fd after the inherited sockets. */
export const notificationFd: ValueType<number | 'auto'> = {
  name: 'fd number or auto',
  typed: true,
  parse(raw) {
    if (raw === 'auto') return ok('auto');
    if (/^\d+$/.test(raw) && Number(raw) >= 3 && Number(raw) <= 1023) return ok(Number(raw));
    return fail(`expected a file descriptor number from 3 to 1023, or auto, got ${JSON.stringify(raw)}`);
  },
};

// POSIX portable user names, plus the trailing $ of Samba machine accounts; digits alone are a numeric id.
const ACCOUNT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;

/** A user or group, by name or number, as written; resolved against the system's accounts (NSS) when used. */
export const account: ValueType<string> = {
  name: 'name or id',
  typed: true,
  parse: (raw) => (ACCOUNT.test(raw) ? ok(raw) : fail(`expected a user or group name or a numeric id, got ${JSON.stringify(raw)}`)),
};

/** `user`, `user:group` or `:group`, by name or number; resolved against the system's accounts when used. */
export interface OwnerSpec {
  readonly user?: string;
  readonly group?: string;
}


export const owner: ValueType<OwnerSpec> = {
  name: 'user[:group]',
  typed: true,
  parse(raw) {
    const [user, group, ...rest] = raw.split(':');
    const bad = rest.length > 0 || (!user && !group) || (user && !ACCOUNT.test(user)) || (group !== undefined && group !== '' && !ACCOUNT.test(group));
    if (bad) return fail(`expected user, user:group or :group (names or numbers), got ${JSON.stringify(raw)}`);
    return ok(Object.freeze({ ...(user ? { user } : {}), ...(group ? { group } : {}) }));
  },
};

/** What a worker reads from its stop FIFO: a short command such as uWSGI's `q`, written as is (no newline added). */
export const fifoCommand: ValueType<string> = {
  name: 'text',
  typed: true,
  parse: (raw) => (raw !== '' && Buffer.byteLength(raw) <= 64 ? ok(raw) : fail(`expected the text to write, 1 to 64 bytes (e.g. q), got ${JSON.stringify(raw)}`)),
};

/** One of a fixed set of words (case-sensitive, as systemd's are). */
export function oneOf<T extends string>(...words: T[]): ValueType<T> {
  return {
    name: words.join(' | '),
    typed: true,
    parse: (raw) => ((words as string[]).includes(raw) ? ok(raw as T) : fail(`expected one of ${words.join(', ')}, got ${JSON.stringify(raw)}`)),
  };
}

/**
 * `name=value`, split at the first `=`, both sides trimmed: a placeholder (`set-placeholder`) or an option for every
 * vassal (`vassal-set`). The name is what an option or placeholder can be called: no spaces, no parentheses.
 */
export const nameValue: ValueType<readonly [string, string]> = {
  name: 'name=value',
  typed: true,
  parse(raw) {
    const eq = raw.indexOf('=');
    const name = eq < 0 ? '' : raw.slice(0, eq).trim();
    if (name === '' || /[\s()]/.test(name)) return fail(`expected name=value, got ${JSON.stringify(raw)}`);
    return ok([name, raw.slice(eq + 1).trim()] as const);
  },
};
