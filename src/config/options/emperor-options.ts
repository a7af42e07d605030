import { filePath } from '../values.js';
import { option } from './option-spec.js';

export const EMPEROR = option({
  name: 'emperor',
  type: filePath,
  list: true,
  scope: 'emperor',
  doc: 'Directory of vassal .ini files to watch; each file is one worker group.',
  uwsgi: 'emperor',
});

export const PIDFILE = option({
  name: 'pidfile',
  type: filePath,
  scope: 'emperor',
  doc: 'Write the emperor\'s pid to this file (mode 0644) and remove it on exit.',
  uwsgi: 'pidfile',
});

export const EMPEROR_OPTIONS = [EMPEROR, PIDFILE] as const;
