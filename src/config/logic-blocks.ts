import path from 'node:path';
import type { ConfigHost } from './config-host.js';
import { expandGlob } from './glob-pattern.js';

/**
 * uWSGI's configuration logic (docs "ConfigLogic", core/config.c `uwsgi_logic_opt_*`): an opener line starts a
 * block, every following line is applied once per item (`for*`) or only if the test passed (`if-*`), with `%(_)`
 * in its value replaced by the item or the tested value, until a closer. Blocks do not nest.
 */
export type BlockKind = 'for' | 'if';

/** What an opener's test or loop gave: the items to repeat the block for, or whether the block applies. */
export type Evaluation =
  | { readonly kind: 'for'; readonly items: readonly string[] }
  | { readonly kind: 'if'; readonly pass: boolean; readonly context: string | undefined }
  | {
      readonly kind: 'error';
      readonly message: string;
      /** The cause lies outside the config's text (a file to read that is missing or unreadable). */
      readonly external?: boolean;
    };

export interface LogicContext {
  readonly host: ConfigHost;
  /** Relative paths in `if-exists`, `for-readline`, ... resolve against this directory. */
  readonly baseDir: string;
  /** The first value given so far for an option or placeholder, as `if-opt` sees it (uWSGI: uwsgi_get_exported_opt). */
  exported(name: string): string | undefined;
}

type Test = (arg: string, ctx: LogicContext) => Evaluation;

/** How many times a block may repeat: `for-times = 1000000000` is a typo, not a plan. */
export const MAX_ITEMS = 10_000;

const ifResult = (pass: boolean, context: string | undefined): Evaluation => ({ kind: 'if', pass, context });

/** `NAME` or `NAME=value`: the value, when given, must match exactly (uWSGI's "env-value syntax"). */
function splitTest(arg: string): { name: string; expected: string | undefined } {
  const eq = arg.indexOf('=');
  return eq < 0 ? { name: arg, expected: undefined } : { name: arg.slice(0, eq), expected: arg.slice(eq + 1) };
}

function valueTest(lookup: (name: string, ctx: LogicContext) => string | undefined, negate: boolean): Test {
  return (arg, ctx) => {
    const { name, expected } = splitTest(arg);
    const value = lookup(name, ctx);
    const holds = value !== undefined && (expected === undefined || value === expected);
    return ifResult(negate ? !holds : holds, value);
  };
}

function pathTest(accept: (kind: string) => boolean, negate: boolean): Test {
  return (arg, ctx) => {
    const holds = accept(ctx.host.pathKind(path.resolve(ctx.baseDir, arg)));
    return ifResult(negate ? !holds : holds, arg);
  };
}

const env = (name: string, ctx: LogicContext): string | undefined => ctx.host.env[name];
const opt = (name: string, ctx: LogicContext): string | undefined => ctx.exported(name);
const exists = (kind: string): boolean => kind !== 'missing';
const isFile = (kind: string): boolean => kind === 'file';
const isDir = (kind: string): boolean => kind === 'dir';

function forWords(arg: string): Evaluation {
  // uwsgi_foreach_token(" "): runs of spaces separate, empty words are dropped; tabs are part of a word.
  return { kind: 'for', items: arg.split(' ').filter((w) => w !== '') };
}

function forTimes(arg: string): Evaluation {
  if (!/^\d+$/.test(arg) || Number(arg) > MAX_ITEMS) {
    return { kind: 'error', message: `for-times expects a whole number from 0 to ${MAX_ITEMS}, got ${JSON.stringify(arg)}` };
  }
  return { kind: 'for', items: Array.from({ length: Number(arg) }, (_, i) => String(i + 1)) };
}

function forReadline(arg: string, ctx: LogicContext): Evaluation {
  const file = path.resolve(ctx.baseDir, arg);
  const read = ctx.host.readText(file);
  if (!read.ok) return { kind: 'error', message: `cannot read ${file}: ${read.reason}`, external: true };
  // uWSGI passes every line, blank ones too; a blank line is never a useful item (it would make `env = ` etc.).
  const items = read.text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  return { kind: 'for', items };
}

function forGlob(arg: string, ctx: LogicContext): Evaluation {
  const glob = expandGlob(arg, ctx.baseDir, ctx.host, MAX_ITEMS);
  return glob.ok ? { kind: 'for', items: glob.matches } : { kind: 'error', message: glob.message };
}

function tooMany(test: Test): Test {
  return (arg, ctx) => {
    const result = test(arg, ctx);
    if (result.kind === 'for' && result.items.length > MAX_ITEMS) {
      return { kind: 'error', message: `the loop has ${result.items.length} items; at most ${MAX_ITEMS} are allowed` };
    }
    return result;
  };
}

/** Every opener uWSGI 2.0 knows (core/uwsgi.c, "(opt logic)"), with its test. */
const OPENERS = new Map<string, { kind: BlockKind; test: Test }>([
  ['for', { kind: 'for', test: tooMany(forWords) }],
  ['for-glob', { kind: 'for', test: tooMany(forGlob) }],
  ['for-times', { kind: 'for', test: forTimes }],
  ['for-readline', { kind: 'for', test: tooMany(forReadline) }],
  ['if-opt', { kind: 'if', test: valueTest(opt, false) }],
  ['if-not-opt', { kind: 'if', test: valueTest(opt, true) }],
  ['if-env', { kind: 'if', test: valueTest(env, false) }],
  ['ifenv', { kind: 'if', test: valueTest(env, false) }],
  ['if-not-env', { kind: 'if', test: valueTest(env, true) }],
  ['if-exists', { kind: 'if', test: pathTest(exists, false) }],
  ['ifexists', { kind: 'if', test: pathTest(exists, false) }],
  ['if-not-exists', { kind: 'if', test: pathTest(exists, true) }],
  ['if-file', { kind: 'if', test: pathTest(isFile, false) }],
  ['if-not-file', { kind: 'if', test: pathTest(isFile, true) }],
  ['if-dir', { kind: 'if', test: pathTest(isDir, false) }],
  ['ifdir', { kind: 'if', test: pathTest(isDir, false) }],
  ['if-directory', { kind: 'if', test: pathTest(isDir, false) }],
  ['if-not-dir', { kind: 'if', test: pathTest(isDir, true) }],
  ['if-hostname', { kind: 'if', test: (arg, ctx) => ifResult(ctx.host.facts.hostname === arg, arg) }],
  ['if-not-hostname', { kind: 'if', test: (arg, ctx) => ifResult(ctx.host.facts.hostname !== arg, arg) }],
  // A regular expression from a file could take exponential time on a host name; uWSGI only has it with PCRE.
  ['if-hostname-match', { kind: 'if', test: () => ({ kind: 'error', message: 'if-hostname-match is not supported; use if-hostname with the exact name' }) }],
  ['if-not-hostname-match', { kind: 'if', test: () => ({ kind: 'error', message: 'if-not-hostname-match is not supported; use if-not-hostname with the exact name' }) }],
  // A supervisor loads no uWSGI plugins, and every read of a file is a fresh start, never uWSGI's in-place reload.
  ['if-plugin', { kind: 'if', test: (arg) => ifResult(false, arg) }],
  ['ifplugin', { kind: 'if', test: (arg) => ifResult(false, arg) }],
  ['if-not-plugin', { kind: 'if', test: (arg) => ifResult(true, arg) }],
  ['if-reload', { kind: 'if', test: () => ifResult(false, undefined) }],
  ['if-not-reload', { kind: 'if', test: () => ifResult(true, undefined) }],
]);

/** Closers, and the kind of block each one is meant for (`end` closes either, as in uWSGI). */
const CLOSERS = new Map<string, BlockKind | 'any'>([
  ['endfor', 'for'],
  ['end-for', 'for'],
  ['endif', 'if'],
  ['end-if', 'if'],
  ['end', 'any'],
]);

export const ELSE = 'else';

export function openerKind(key: string): BlockKind | undefined {
  return OPENERS.get(key)?.kind;
}

export function closerKind(key: string): BlockKind | 'any' | undefined {
  return CLOSERS.get(key);
}

/** The usual closer of a block kind, for messages. */
export function closerName(kind: BlockKind): string {
  return kind === 'for' ? 'endfor' : 'endif';
}

/** Runs an opener's test; undefined when `key` is not an opener. Never throws. */
export function evaluateOpener(key: string, arg: string, ctx: LogicContext): Evaluation | undefined {
  return OPENERS.get(key)?.test(arg, ctx);
}

/** Every logic keyword, for the docs and for telling them apart from options. */
export function logicKeywords(): { openers: string[]; closers: string[] } {
  return { openers: [...OPENERS.keys()], closers: [...CLOSERS.keys()] };
}

/** uWSGI's uwsgi_substitute(value, "%(_)", item): every occurrence. */
export function substituteItem(value: string, item: string): string {
  return value.split('%(_)').join(item);
}
