import { boolean, filePath, text } from '../values.js';
import { option } from './option-spec.js';

/**
 * The emperor's settings for vassal files that configure a uWSGI app and have no `command` (src/config/uwsgi-app.ts):
 * such a file runs as one worker, a uWSGI master started with that same file. Names uWSGI does not use.
 */
export const UWSGI_APP = option({
  name: 'uwsgi-app',
  type: boolean,
  scope: 'emperor',
  default: 'true',
  bare: 'true',
  doc: 'A vassal file without command that configures a uWSGI app (module, wsgi-file, mount, psgi, rack, ...) runs with uWSGI as its one worker, started with that file; false: every vassal needs a command.',
  uwsgi: 'none (uWSGI\'s emperor runs every vassal file with uWSGI)',
});

export const UWSGI_APP_BINARY = option({
  name: 'uwsgi-app-binary',
  type: filePath,
  scope: 'emperor',
  default: '/usr/bin/uwsgi',
  doc: 'The uWSGI program that runs uWSGI app vassals, by absolute path (it runs as the vassal\'s user; no PATH is searched). Debian/Ubuntu: /usr/bin/uwsgi (apt-get install uwsgi-core uwsgi-plugin-python3); pip: /usr/local/bin/uwsgi.',
  uwsgi: 'none (uWSGI: binary-path is the binary its own emperor runs vassals with)',
});

export const UWSGI_APP_PLUGINS = option({
  name: 'uwsgi-app-plugins',
  type: text,
  scope: 'emperor',
  default: 'python3',
  doc: 'Plugins loaded for a uWSGI app vassal whose file names none itself (plugin, plugins), comma-separated; empty for none. Debian\'s uwsgi-core has no language built in and needs python3 for a WSGI app; a pip-installed uWSGI needs none.',
  uwsgi: 'none (uWSGI: plugins, in the vassal file)',
});

export const UWSGI_APP_OPTIONS = [UWSGI_APP, UWSGI_APP_BINARY, UWSGI_APP_PLUGINS] as const;
