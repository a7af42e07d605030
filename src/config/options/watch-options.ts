import { boolean, oneOf, seconds, type ValueType } from '../values.js';
import { option } from './option-spec.js';

/** A file name ending such as `.ini`: starts with a dot, no slash. */
const extension: ValueType<string> = {
  name: 'extension',
  typed: true,
  parse: (raw) =>
    /^\.[^/]+$/.test(raw)
      ? { ok: true, value: raw }
      : { ok: false, reason: `expected a file name ending that starts with a dot, such as .ini, got ${JSON.stringify(raw)}` },
};

export const EMPEROR_EXTENSION = option({
  name: 'emperor-extension',
  type: extension,
  list: true,
  scope: 'emperor',
  default: '.ini',
  doc: 'File name ending that makes a file a vassal file (repeatable). Hidden files never are; a glob in emperor only narrows further.',
  uwsgi: 'none (uWSGI picks the config reader by extension)',
});

export const EMPEROR_SETTLE = option({
  name: 'emperor-settle',
  type: seconds,
  scope: 'emperor',
  default: '0.05',
  doc: 'Quiet time after the last file event before the vassal files are read, so an editor save or a copy is seen once, complete; a writer pausing longer than this mid-file is seen half-way. A file renamed, linked or `cp -p`ed in after its last write (its mtime older than its ctime) is complete and needs no quiet time: the first event naming a vassal file is acted on at once, and the rest of a burst is read when it has been quiet this long.',
});

export const EMPEROR_FREQ = option({
  name: 'emperor-freq',
  type: seconds,
  scope: 'emperor',
  default: '3',
  doc: 'Interval of the safety-net rescan (stat first, read only what changed) that catches changes no file event reported; 0 disables it. Left unset, the rescan backs off while nothing happens: each quiet rescan doubles the interval up to 30 s, and a file event, a change no event reported or a failed watch brings it back to 3 s; when the emperor directory (the fixed part of a glob) is on NFS, CIFS, FUSE or another filesystem where changes made elsewhere make no event (checked at start), it stays at 3 s. Written, it is kept as written: write it when vassal files or their includes live on such a filesystem below or outside that directory.',
  uwsgi: 'emperor-freq (there the only way changes are seen; here a safety net; written, the same fixed interval)',
});

export const EMPEROR_WAIT = option({
  name: 'emperor-wait',
  type: boolean,
  scope: 'emperor',
  bare: 'true',
  default: 'false',
  doc: 'Start even if a vassal directory (or a glob\'s base) does not exist yet, and pick it up when it appears; otherwise that is an error at startup.',
});

export const EMPEROR_ON_TOUCH = option({
  name: 'emperor-on-touch',
  type: oneOf('reload', 'ignore'),
  scope: 'emperor',
  default: 'reload',
  doc: 'What touching a vassal file does (the same file and content, a newer mtime: touch, cp -p of a newer copy): reload rolls the vassal, as in uWSGI; ignore leaves it, so that only a change of content reloads. A file replaced by another with the same content (an editor\'s save, a rename into place, a ConfigMap swap) never reloads.',
  uwsgi: 'none (uWSGI always reloads a vassal whose mtime moved forward)',
});

export const WATCH_OPTIONS = [EMPEROR_EXTENSION, EMPEROR_SETTLE, EMPEROR_FREQ, EMPEROR_WAIT, EMPEROR_ON_TOUCH] as const;
