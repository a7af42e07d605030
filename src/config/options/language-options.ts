import { boolean, filePath, nameValue, text } from '../values.js';
import { option } from './option-spec.js';

/**
 * Options of the config language itself: they shape how files are read rather than what runs. `ini` and the
 * logic keywords are consumed by the reader (src/config/config-reader.ts); the others are read like any option.
 */
export const INI = option({
  name: 'ini',
  aliases: ['include'],
  type: text,
  list: true,
  scope: 'both',
  doc: 'Read another ini file at this point, as if its lines were written here: FILE, FILE:section, or :section (another section of this file). Relative to the top-level file\'s directory. On the command line, a bare FILE.ini means --ini FILE.ini.',
  uwsgi: 'ini (and include, for ini files)',
});

export const STRICT = option({
  name: 'strict',
  type: boolean,
  scope: 'both',
  default: 'false',
  bare: 'true',
  doc: 'Make an unknown option an error instead of a warning (define placeholders with set-placeholder then).',
  uwsgi: 'strict',
});

export const SET_PLACEHOLDER = option({
  name: 'set-placeholder',
  aliases: ['set-ph'],
  type: nameValue,
  list: true,
  scope: 'both',
  doc: 'Define a placeholder for %(name) without it counting as an option: set-placeholder = name=value. Any key = value line also defines %(key).',
  uwsgi: 'set-placeholder',
});

export const VASSALS_INCLUDE = option({
  name: 'vassals-include',
  type: filePath,
  list: true,
  scope: 'emperor',
  doc: 'An ini file read at the start of every vassal file, as a template: its %D %N %P ... name the vassal file. Read again whenever a vassal is (re)loaded.',
  uwsgi: 'vassals-include',
});

export const VASSAL_SET = option({
  name: 'vassal-set',
  type: nameValue,
  list: true,
  scope: 'emperor',
  doc: 'An option added at the end of every vassal file: vassal-set = key=value (so it wins over the file\'s own scalar value).',
  uwsgi: 'vassal-set',
});

export const LANGUAGE_OPTIONS = [INI, STRICT, SET_PLACEHOLDER, VASSALS_INCLUDE, VASSAL_SET] as const;
