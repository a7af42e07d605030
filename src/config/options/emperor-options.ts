import { boolean, envName, filePath, integer } from '../values.js';
import { option } from './option-spec.js';

export const EMPEROR = option({
  name: 'emperor',
  type: filePath,
  list: true,
  scope: 'emperor',
  doc: 'Directory of vassal files to watch, or a glob such as /etc/vassals/*.ini (quote it from the shell); repeatable. Each file is one worker group.',
  uwsgi: 'emperor',
});

export const PIDFILE = option({
  name: 'pidfile',
  type: filePath,
  scope: 'emperor',
  doc: 'Write the emperor\'s pid to this file (mode 0644) and remove it on exit. A second emperor on the same pidfile refuses to start.',
  elsewhere:
    'uWSGI writes its master\'s pid there, and a vassal run by a command has no master (its workers are the emperor\'s children); to reload one vassal, use touch-reload or supervisor --reload-vassal NAME (a vassal that runs a uWSGI app keeps uWSGI\'s meaning)',
  uwsgi: 'pidfile',
});

export const DIE_ON_TERM = option({
  name: 'die-on-term',
  type: boolean,
  scope: 'emperor',
  default: 'true',
  bare: 'true',
  doc: 'SIGTERM stops the emperor (uWSGI 2.1 semantics); false restores uWSGI 2.0\'s meaning, SIGTERM reloads. SIGINT and SIGQUIT always stop.',
  elsewhere: 'a vassal\'s workers always stop on their stop-signal (TERM by default); die-on-term only sets what SIGTERM means to the emperor',
  uwsgi: 'die-on-term',
});

export const EMPEROR_TYRANT = option({
  name: 'emperor-tyrant',
  type: boolean,
  scope: 'emperor',
  default: 'false',
  bare: 'true',
  doc: 'Run each vassal as the owner (uid and gid) of its file, and read its config with that owner\'s rights and environment (includes, @(file), loops, if-exists, $(VAR), vassals-include templates); refuse files owned by user or group root, files in directories others may write, and files asking for another uid or gid.',
  uwsgi: 'emperor-tyrant',
});

export const TYRANT_PASS_ENV = option({
  name: 'tyrant-pass-env',
  type: envName,
  list: true,
  scope: 'emperor',
  doc: 'In tyrant mode, a variable of the emperor\'s environment that tenants\' workers get too (repeatable); otherwise they start from PATH, HOME, USER, LOGNAME and SHELL only.',
  uwsgi: 'none (systemd: PassEnvironment=)',
});

export const TYRANT_PRIVILEGED_PORTS = option({
  name: 'tyrant-privileged-ports',
  type: boolean,
  scope: 'emperor',
  default: 'false',
  bare: 'true',
  doc: 'With emperor-tyrant, let tenants\' vassals listen on TCP ports below 1024 (the bind helper binds them as root, then drops to the tenant for the rest). Without it such a port is refused; unix socket paths always need the tenant\'s own rights.',
});

export const EMPEROR_RELOAD_CONCURRENCY = option({
  name: 'emperor-reload-concurrency',
  type: integer(1, 1024, 'vassals'),
  scope: 'emperor',
  default: '4',
  doc: 'SIGHUP reloads every vassal, each one rolling; this many vassals roll at the same time.',
  uwsgi: 'none (uWSGI reloads every vassal at once)',
});

export const NICE_UNTIL_READY = option({
  name: 'nice-until-ready',
  type: integer(0, 19, 'nice'),
  scope: 'emperor',
  defaultText: '19 when the emperor runs as root, else 0',
  doc: 'Nice value (integer 0..19) of a worker started during a start storm, that is while as many other workers as the machine has CPUs are starting (the emperor\'s start, a SIGHUP, many files at once), until it is ready, the storm is over (no more than that many still starting), it is stopped, or 10 s have passed; then it gets the emperor\'s own priority back, on its session\'s autogroup and on every thread of its process tree. A lone start (a hot-add, one vassal\'s rolling reload) is never lowered. Starting workers then yield the CPU to the emperor that spawns them and to the workers already serving. 0 switches it off. Root only: nothing else may raise a priority again.',
  uwsgi: 'none (uWSGI\'s prio sets a fixed priority for good)',
});

export const EMPEROR_OPTIONS = [EMPEROR, PIDFILE, DIE_ON_TERM, EMPEROR_TYRANT, TYRANT_PASS_ENV, TYRANT_PRIVILEGED_PORTS, EMPEROR_RELOAD_CONCURRENCY, NICE_UNTIL_READY] as const;
