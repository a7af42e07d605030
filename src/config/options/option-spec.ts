import type { ValueType } from '../values.js';

/** Where an option is read: in vassal files, on the emperor (its command line or ini), or both. */
export type OptionScope = 'vassal' | 'emperor' | 'both';

/**
 * One row of the option table: the single source of truth for parsing, validation, `--help` and docs/options.md.
 */
export interface OptionSpec<T = unknown> {
  readonly name: string;
  /** Other spellings accepted, uWSGI's among them (`workers` for `processes`). */
  readonly aliases?: readonly string[];
  readonly type: ValueType<T>;
  /** Repeatable: every occurrence is kept, in order. Otherwise the last occurrence wins, as in uWSGI. */
  readonly list?: boolean;
  readonly scope: OptionScope;
  /** The default as the user would write it (it must parse with `type`); absent when there is none. */
  readonly default?: string;
  /** A default that is not a value, described for the docs ("the vassal file's directory"). */
  readonly defaultText?: string;
  /** The value a bare key (no `=`) stands for; `true` for booleans, e.g. `666` for chmod-socket as in uWSGI. */
  readonly bare?: string;
  readonly required?: boolean;
  /** One line for --help and docs: what it does, with units. */
  readonly doc: string;
  /**
   * Why an option common in uWSGI files of the other kind (die-on-term in a vassal, uid on the emperor) needs no
   * action here: found there, it is a note with this text instead of a warning.
   */
  readonly elsewhere?: string;
  /** The uWSGI option it corresponds to, or how it differs; absent for options uWSGI does not have. */
  readonly uwsgi?: string;
}

/** Helper that keeps the row's value type attached to its parser while the table stays a plain array. */
export function option<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

/** The documented default, parsed by the option's own type so that docs and behaviour cannot disagree. */
export function defaultValue<T>(spec: OptionSpec<T>): T {
  if (spec.default === undefined) throw new Error(`option table: ${spec.name} has no default`);
  const parsed = spec.type.parse(spec.default, { baseDir: '/' });
  if (!parsed.ok) throw new Error(`option table: default of ${spec.name} does not parse: ${parsed.reason}`);
  return parsed.value;
}
