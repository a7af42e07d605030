import { account, boolean, command, envAssignment, envName, fifoCommand, filePath, integer, notificationFd, oneOf, seconds, signal } from '../values.js';
import { option } from './option-spec.js';

/** `command`: the program a worker runs, with its arguments. */
export const COMMAND = option({
  name: 'command',
  type: command,
  scope: 'vassal',
  required: true,
  doc: 'The program each worker runs, with its arguments, split like a shell splits words (quotes, backslashes); no shell is run.',
  uwsgi: 'none: uWSGI runs its own workers; for a WSGI app write e.g. command = uwsgi --plugin python3 --module wsgi',
});

export const PROCESSES = option({
  name: 'processes',
  aliases: ['workers', 'p'],
  type: integer(1, 4096, 'workers'),
  scope: 'vassal',
  default: '1',
  doc: 'Number of worker processes in the group.',
  uwsgi: 'processes',
});

export const CHDIR = option({
  name: 'chdir',
  type: filePath,
  scope: 'vassal',
  defaultText: 'the vassal file\'s directory',
  doc: 'Working directory of the workers; relative to the vassal file\'s directory.',
  uwsgi: 'chdir',
});

export const ENV = option({
  name: 'env',
  type: envAssignment,
  list: true,
  scope: 'vassal',
  doc: 'KEY=VALUE added to the workers\' environment (which otherwise is the emperor\'s); repeatable.',
  uwsgi: 'env',
});

export const WORKER_RELOAD_MERCY = option({
  name: 'worker-reload-mercy',
  aliases: ['reload-mercy', 'mercy'],
  type: seconds,
  scope: 'vassal',
  default: '10',
  doc: 'Seconds to wait after the stop signal before SIGKILL to the worker\'s process group.',
  uwsgi: 'worker-reload-mercy (uWSGI default 60)',
});

export const STOP_SIGNAL = option({
  name: 'stop-signal',
  aliases: ['kill-signal'],
  type: signal,
  scope: 'vassal',
  default: 'TERM',
  doc: 'Signal sent to a worker\'s process group to stop it gracefully (SIGKILL follows after worker-reload-mercy).',
  uwsgi: 'none (systemd: KillSignal=)',
});

export const KILL_MODE = option({
  name: 'kill-mode',
  type: oneOf('control-group', 'mixed'),
  scope: 'vassal',
  default: 'control-group',
  doc: 'Who gets the stop signal: control-group sends it to the worker\'s whole process group; mixed sends it to the worker only (for programs that manage their own children, such as uWSGI with --master), and SIGKILLs what is left of the group once it has exited. Either way, SIGKILL after worker-reload-mercy goes to the whole group.',
  uwsgi: 'none (systemd: KillMode=)',
});

export const STOP_FIFO = option({
  name: 'stop-fifo',
  type: fifoCommand,
  scope: 'vassal',
  doc: 'Stop a worker by writing this text (e.g. q) to a FIFO the worker creates at the path it is given in $SUPERVISOR_STOP_FIFO (or the variable stop-fifo-env names), in a directory of its own; the stop signal is sent only when that fails (no FIFO yet, nobody reading), and then the FIFO is tried again every 0.1 s while the mercy time runs. worker-reload-mercy and SIGKILL apply as after a signal.',
  uwsgi: 'none (uWSGI: master-fifo, whose q command stops gracefully, finishing the requests in flight)',
});

export const STOP_FIFO_ENV = option({
  name: 'stop-fifo-env',
  type: envName,
  scope: 'vassal',
  default: 'SUPERVISOR_STOP_FIFO',
  doc: 'The variable that gives each worker the path of its stop-fifo. UWSGI_MASTER_FIFO makes uWSGI create its master FIFO there (uWSGI reads UWSGI_* variables as options), before any master-fifo of its own.',
  uwsgi: 'none',
});

export const NOTIFICATION_FD = option({
  name: 'notification-fd',
  type: notificationFd,
  scope: 'vassal',
  bare: 'auto',
  doc: 'Readiness, s6 protocol: the worker writes a newline on this fd when it is ready; its number is in NOTIFICATION_FD. auto: the first fd after the sockets.',
  uwsgi: 'none (s6: notification-fd)',
});

export const NOTIFY_SOCKET = option({
  name: 'notify-socket',
  type: boolean,
  scope: 'vassal',
  default: 'false',
  bare: 'true',
  doc: 'Readiness, systemd protocol (Type=notify): each worker gets NOTIFY_SOCKET and is ready when it sends READY=1 (gunicorn, uWSGI, sd_notify).',
  uwsgi: 'none (uWSGI itself sends READY=1 when started with NOTIFY_SOCKET)',
});

export const READY_AFTER = option({
  name: 'ready-after',
  type: seconds,
  scope: 'vassal',
  default: '1',
  doc: 'Fallback readiness for workers that do not notify: ready once up this many seconds, counted from when the worker has its environment from the emperor (as ready-timeout is).',
  uwsgi: 'none (PM2: min_uptime)',
});

export const READY_TIMEOUT = option({
  name: 'ready-timeout',
  type: seconds,
  scope: 'vassal',
  default: '60',
  doc: 'A worker not ready this many seconds after it started (got its environment from the emperor) counts as failed to start, and is stopped. Time the worker (any thread of it or of its descendants) spent waiting for a CPU does not count (run-queue wait, /proc/PID/task/TID/schedstat), so a start storm on a busy machine does not kill workers that are only slow to get a CPU; on the wall clock the timeout stretches to 10 times itself at most.',
  uwsgi: 'none (systemd: TimeoutStartSec=, which counts wall time)',
});

export const RESTART_DELAY = option({
  name: 'restart-delay',
  type: seconds,
  scope: 'vassal',
  default: '0.5',
  doc: 'Backoff for crash loops: a worker that dies is replaced at once; if it keeps dying before or soon after ready, the next start waits this many seconds, doubling each time.',
  uwsgi: 'none (systemd: RestartSec=)',
});

export const RESTART_DELAY_MAX = option({
  name: 'restart-delay-max',
  type: seconds,
  scope: 'vassal',
  default: '30',
  doc: 'Upper bound of the crash-loop backoff, in seconds.',
  uwsgi: 'none (systemd: RestartMaxDelaySec=)',
});

export const HEALTHY_AFTER = option({
  name: 'healthy-after',
  type: seconds,
  scope: 'vassal',
  default: '1',
  doc: 'A worker ready for this many seconds is healthy: when it dies, it is replaced at once and its slot\'s crash-loop backoff starts over. 1 s, as supervisord\'s startsecs and PM2\'s min_uptime: a worker killed after serving (an OOM kill, an operator\'s kill -9) is not a crash loop; one that dies before it is ready, or within this time of it, is.',
  uwsgi: 'none (supervisord: startsecs; PM2: min_uptime)',
});

export const RELOAD_BATCH = option({
  name: 'reload-batch',
  type: integer(1, 4096, 'workers'),
  scope: 'vassal',
  default: '1',
  doc: 'Rolling reload: how many workers are replaced at once (each successor must be ready before its predecessor stops).',
  uwsgi: 'none (uWSGI chain-reload replaces one at a time)',
});

export const UID = option({
  name: 'uid',
  type: account,
  scope: 'both',
  doc: 'Run the workers as this user (name or number), with its supplementary groups; sockets are still bound by the emperor. On the emperor: the user of every vassal that names no uid (not in tyrant mode); the emperor itself keeps root.',
  uwsgi: 'uid (on uWSGI\'s emperor, the emperor itself drops to it)',
});

export const GID = option({
  name: 'gid',
  type: account,
  scope: 'both',
  defaultText: 'the uid\'s primary group',
  doc: 'Run the workers with this group (name or number). On the emperor: the group of every vassal that names neither uid nor gid (not in tyrant mode).',
  uwsgi: 'gid',
});

export const MAX_WORKER_LIFETIME = option({
  name: 'max-worker-lifetime',
  type: seconds,
  scope: 'vassal',
  default: '0',
  doc: 'Recycle a worker after it has been up this many seconds (0: never); its replacement is ready before it stops.',
  uwsgi: 'max-worker-lifetime',
});

export const RELOAD_ON_RSS = option({
  name: 'reload-on-rss',
  type: integer(0, Number.MAX_SAFE_INTEGER, 'MB'),
  scope: 'vassal',
  default: '0',
  doc: 'Recycle a worker whose resident memory exceeds this many megabytes (0: never); checked every 2 s, one worker at a time, replacement ready first.',
  uwsgi: 'reload-on-rss (same unit)',
});

export const TOUCH_RELOAD = option({
  name: 'touch-reload',
  type: filePath,
  list: true,
  scope: 'both',
  doc: 'Reload when this file is touched or changed (relative to the ini file\'s directory; repeatable): in a vassal file, that vassal rolls; on the emperor, every vassal does, as on SIGHUP.',
  uwsgi: 'touch-reload',
})

export const VASSAL_OPTIONS = [
  COMMAND,
  PROCESSES,
  CHDIR,
  ENV,
  STOP_SIGNAL,
  KILL_MODE,
  WORKER_RELOAD_MERCY,
  STOP_FIFO,
  STOP_FIFO_ENV,
  NOTIFICATION_FD,
  NOTIFY_SOCKET,
  READY_AFTER,
  READY_TIMEOUT,
  RESTART_DELAY,
  RESTART_DELAY_MAX,
  HEALTHY_AFTER,
  RELOAD_BATCH,
  UID,
  GID,
  MAX_WORKER_LIFETIME,
  RELOAD_ON_RSS,
  TOUCH_RELOAD,
] as const;
