/**
 * uWSGI options that a generic supervisor recognises but does not apply. Users bring uWSGI files; these keys are
 * reported once each as a "note" with what to do instead, never silently dropped and never mistaken for typos.
 *
 * Names ending in `*` cover every option with that prefix (`http-*`: the http router's options). An option of the
 * real table always wins over this list (options/index.ts looks there first), so giving an option a real meaning
 * later is only a matter of adding it to the table. The options that are becoming real options elsewhere (see
 * RESERVED below) are deliberately not claimed here: until they exist they are unknown options.
 *
 * Sources: uWSGI 2.0's option list (core/uwsgi.c, plugins/*), and the keys used by the files in the test corpus.
 */
export interface NotApplicableGroup {
  readonly id: string;
  /** What the group's options are, for docs/options.md. */
  readonly title: string;
  /** What to do instead; completes "... is a uWSGI option, not applicable here (ignored): ". */
  readonly hint: string;
  readonly names: readonly string[];
}

export const NOT_APPLICABLE: readonly NotApplicableGroup[] = [
  {
    id: 'app',
    title: 'Loading and running the application inside uWSGI\'s own workers',
    hint: 'it tells uWSGI how to run the app in its own workers: a vassal file without command that loads an app (module, wsgi-file, ...) runs with uWSGI itself (uwsgi-app), and one with a command runs that instead, e.g. command = gunicorn wsgi:app',
    names: [
      'module', 'wsgi-file', 'wsgi', 'file', 'callable', 'mount', 'manage-script-name', 'home', 'virtualenv', 'venv',
      'pyhome', 'pythonpath', 'python-path', 'pp', 'plugin', 'plugins', 'plugins-dir', 'need-app', 'lazy-apps', 'lazy',
      'single-interpreter', 'import', 'pyimport', 'shared-import', 'paste', 'ini-paste', 'rack', 'rbrequire', 'psgi',
      'php-*', 'cgi', 'cgi-*', 'py-*', 'python-autoreload', 'optimize', 'spooler', 'spooler-*', 'gevent', 'gevent-*',
      'async', 'ugreen', 'threads', 'enable-threads', 'offload-threads', 'static-*', 'check-static', 'mime-file',
      'route', 'route-*', 'final-route*', 'response-route*', 'error-route*', 'cache2', 'cache', 'cache-*', 'mule', 'mules',
      'farm', 'eval', 'ini-paste-logged', 'pecan', 'web3', 'pump', 'wsgi-lite', 'worker-mount', 'rails', 'lua', 'mono-app', 'jwsgi',
      'ring-app', 'jvm-main-class', 'symcall', 'webdav-mount',
    ],
  },
  {
    id: 'workers',
    title: 'Tuning how uWSGI\'s workers handle requests',
    hint: 'it tunes uWSGI\'s own request handling; give the equivalent setting to the server your command runs (e.g. command = uwsgi ... --harakiri 30, or gunicorn\'s own flags)',
    names: [
      'harakiri', 'harakiri-*', 'buffer-size', 'post-buffering', 'post-buffering-bufsize', 'socket-timeout', 'max-requests',
      'max-requests-delta', 'reload-on-as', 'evil-reload-on-rss', 'limit-post',
      'limit-as', 'cheap', 'cheaper', 'cheaper-*', 'idle', 'die-on-idle', 'protocol', 'socket-protocol', 'disable-write-exception',
      'ignore-sigpipe', 'ignore-write-errors', 'write-errors-*', 'add-header', 'no-defer-accept', 'honour-stdin',
      'memory-report', 'cpu-affinity', 'max-fd', 'thunder-lock', 'touch-workers-reload', 'touch-chain-reload',
      'unsubscribe-on-graceful-reload', 'so-keepalive', 'reuse-port', 'freebind', 'abstract-socket', 'map-socket',
    ],
  },
  {
    id: 'master',
    title: 'uWSGI\'s master process',
    hint: 'the supervisor itself is the master that starts, watches and restarts the workers; process names are those of the command',
    names: [
      'master', 'master-as-root', 'no-orphans', 'auto-procname', 'procname', 'procname-*', 'exit-on-reload', 'print',
      'exit', 'vacuum-pidfile', 'catch-exceptions', 'backtrace-depth', 'worker-exec', 'worker-exec2',
    ],
  },
  {
    id: 'logging',
    title: 'uWSGI\'s logging',
    hint: 'workers\' output goes to the supervisor\'s log, or to a logto file (see docs/options.md for the log options this supervisor has); request logging is the business of the server your command runs (e.g. uwsgi --logformat ..., gunicorn --access-logfile -)',
    names: [
      'logger', 'logger-*', 'req-logger', 'log-*', 'logformat', 'logformat-*', 'disable-logging', 'threaded-logger',
    ],
  },
  {
    id: 'routers',
    title: 'uWSGI\'s routers, gateways and subscription system',
    hint: 'uWSGI\'s routers are separate servers; put nginx (or another proxy) in front, or let the app speak HTTP itself on socket = host:port',
    names: [
      'http', 'https', 'http-*', 'https-*', 'http2', 'fastrouter', 'fastrouter-*', 'rawrouter', 'rawrouter-*', 'sslrouter',
      'sslrouter-*', 'forkptyrouter', 'subscribe-to', 'subscribe2', 'subscribe', 'subscription-*', 'subscriptions-*',
      'sni', 'sni-*', 'ssl-*', 'shared-socket', 'legion', 'legion-*', 'dgram-router', 'dgram-router-*', 'tuntap-router',
      'tuntap-*', 'zerg', 'zerg-*', 'broodlord-*',
    ],
  },
  {
    id: 'daemons',
    title: 'Extra processes and timers run by uWSGI',
    hint: 'run it as a vassal of its own (its own file with command = ...), or from cron or a systemd timer',
    names: ['attach-daemon', 'attach-daemon2', 'attach-control-daemon', 'smart-attach-daemon', 'smart-attach-daemon2', 'cron', 'cron2', 'unique-cron', 'legion-cron', 'cron-*'],
  },
  {
    id: 'hooks',
    title: 'Commands uWSGI runs at points of its startup',
    hint: 'run it from the command itself, e.g. command = sh -c \'./manage.py migrate && exec the-app\'',
    names: ['hook-*', 'exec-*', 'call-*'],
  },
  {
    id: 'process',
    title: 'Process set-up that uWSGI does for its workers',
    hint: 'the supervisor does not set this up; wrap the command if you need it, e.g. command = sh -c \'umask 027 && exec the-app\'',
    names: ['umask', 'chroot', 'cap', 'unshare', 'unshare2', 'namespace', 'namespace-*', 'setns*', 'cgroup', 'cgroup-*', 'env-file', 'unenv', 'rlimit-*'],
  },
  {
    id: 'stats',
    title: 'uWSGI\'s stats server, metrics and alarms',
    hint: 'a vassal has no stats server of its own: the emperor\'s control socket gives every vassal\'s status (supervisor --status, supervisor --metrics for Prometheus; metrics-http and emperor-stats serve them read-only), and every worker start, exit and reload is an event in the JSON log',
    names: ['stats', 'stats-*', 'carbon', 'carbon-*', 'metrics-*', 'enable-metrics', 'alarm', 'alarm-*'],
  },
  {
    id: 'emperor',
    title: 'uWSGI emperor features',
    hint: 'this emperor watches directories of vassal .ini files and has no such feature',
    names: [
      'emperor-on-demand-*', 'emperor-use-clone', 'emperor-broodlord', 'emperor-throttle',
      'emperor-max-throttle', 'emperor-magic-exec', 'emperor-procname', 'emperor-wrapper', 'emperor-wrapper-*',
      'emperor-extra-extension', 'emperor-nofollow', 'emperor-required-heartbeat', 'emperor-curse-tolerance', 'emperor-pidfile',
      'emperor-graceful-shutdown', 'early-emperor', 'vassals-inherit', 'vassals-inherit-before', 'vassals-include-before',
      'vassal-sos-backlog', 'binary-path', 'heartbeat',
    ],
  },
  {
    id: 'config',
    title: 'Other config sources and uWSGI\'s option macros',
    hint: 'only ini files are read, with the options in docs/options.md; include another ini file with ini = FILE, and write custom options out',
    names: ['xml', 'yaml', 'yml', 'json', 'js', 'sqlite3', 'sqlite', 'ldap', 'config', 'inherit', 'declare-option', 'declare-option2', 'declare-option-immediate', 'resolve', 'blacklist', 'end-blacklist', 'whitelist', 'end-whitelist', 'inject-before', 'inject-after', 'show-config'],
  },
];

/** Hints for single options, where the group's hint would not help. */
const OWN_HINTS: Readonly<Record<string, string>> = {
  'show-config': 'to see the options as read, run supervisor --show-config FILE',
  print: 'uWSGI prints the value at startup; nothing is printed here',
};

/**
 * Options that are becoming real options on other branches (lifecycle: uid ... log-maxsize, max-worker-lifetime,
 * reload-on-rss; watching: emperor-freq): left unknown until then, whatever prefix would match them.
 */
const RESERVED = new Set([
  'uid', 'gid', 'die-on-term', 'touch-reload', 'emperor-tyrant', 'pidfile', 'daemonize', 'logto', 'log-maxsize',
  'max-worker-lifetime', 'reload-on-rss', 'emperor-freq',
]);

export interface NotApplicableMatch {
  readonly group: NotApplicableGroup;
  readonly hint: string;
}

const exact = new Map<string, NotApplicableGroup>();
const prefixes: [string, NotApplicableGroup][] = [];
for (const group of NOT_APPLICABLE) {
  for (const name of group.names) {
    if (name.endsWith('*')) prefixes.push([name.slice(0, -1), group]);
    else if (!exact.has(name)) exact.set(name, group);
  }
}
// Longest prefix first, so `emperor-on-demand-*` is not taken by a shorter one.
prefixes.sort((a, b) => b[0].length - a[0].length);

/** The group a key belongs to when it is a uWSGI option that does not apply here, or undefined. */
export function findNotApplicable(key: string): NotApplicableMatch | undefined {
  if (RESERVED.has(key)) return undefined;
  const group = exact.get(key) ?? prefixes.find(([prefix]) => key.startsWith(prefix))?.[1];
  return group && { group, hint: OWN_HINTS[key] ?? group.hint };
}
