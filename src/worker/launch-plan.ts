import type { Credentials } from '../runtime/accounts.js';
import { ROOT_ENV, SETPRIV, SH, setprivArgs } from '../runtime/exec-chain.js';

/**
 * How a worker process is started: the exec chain, its environment and its file descriptors. Pure, so the
 * systemd socket-passing conventions and the privilege rules can be tested without starting anything.
 */

/** One inherited listening socket: the emperor's fd, and the name given in LISTEN_FDNAMES. */
export interface InheritedSocket {
  readonly fd: number;
  readonly name: string;
}

export interface LaunchRequest {
  readonly argv: readonly string[];
  /** Working directory of the worker; entered after privileges are dropped, with the worker's own rights. */
  readonly cwd: string;
  /** The environment the worker starts from: the emperor's own, or in tyrant mode the tenant's minimal one. */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** Variables the vassal sets, applied over baseEnv. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Variables the supervisor sets that no vassal line may change (SUPERVISOR_EMPEROR, the run's marker): applied
   * after `env`.
   */
  readonly fixedEnv?: Readonly<Record<string, string>>;
  readonly sockets: readonly InheritedSocket[];
  /**
   * False: the sockets are on fd 3, 4, ... without LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES, for a program told about
   * them otherwise (uWSGI gets `--socket fd://3`: with LISTEN_FDS as well it would attach each socket twice).
   */
  readonly socketActivation?: boolean;
  /** s6-style readiness: the fd number (in the worker) it writes a newline to when ready. */
  readonly notificationFd?: number;
  /** systemd-style readiness: path of the worker's datagram socket, exported as NOTIFY_SOCKET. */
  readonly notifySocket?: string;
  /** Run as this user and group instead of the emperor's. */
  readonly credentials?: Credentials;
  /** Identity exported to the worker, so an app can tell its workers apart. */
  readonly vassal: string;
  readonly workerId: number;
  readonly generation: number;
  /** log-direct: a descriptor (a log file) the worker gets as stdout and stderr instead of pipes. */
  readonly outputFd?: number;
  /**
   * Pid of the process that spawns the chain (the emperor). The setup text then first checks that it is still the
   * shell's parent, and exits with 125 without running the program if not; see planLaunch.
   */
  readonly parentPid?: number;
}

export type StdioEntry = 'ignore' | 'pipe' | number;

export interface LaunchPlan {
  /** Absolute path of the first program (setpriv), run as the emperor's user. */
  readonly file: string;
  readonly args: readonly string[];
  /**
   * The whole environment of that first program: ROOT_ENV, plus the setup text in variables of fixed names
   * (SETUP_VAR_PREFIX and 0, 1, ...). No name a vassal chose reaches a root process; the text is a value only.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Where the first program starts; the worker's own directory is entered later, after the privilege drop. */
  readonly cwd: string;
  /**
   * fd 0 is a pipe whose end of file is the go-ahead: the shell waits for it before it runs the setup text; 1 and 2
   * the output; 3... sockets and the notification fd.
   */
  readonly stdio: readonly StdioEntry[];
  /**
   * Shell text that /bin/sh runs once privileges are dropped and its stdin has reached end of file: it exports the
   * worker's environment, enters its directory, puts /dev/null on stdin and execs the program. It travels in `env`,
   * split at command boundaries into variables of at most SETUP_CHUNK_BYTES.
   */
  readonly setup: string;
  /** The worker's environment, as the setup text exports it (LISTEN_PID is added by the shell: its own pid). */
  readonly workerEnv: Readonly<Record<string, string>>;
}

/** Variables that describe the emperor's own activation; a worker must not mistake them for its own. */
const ACTIVATION_VARS = ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES', 'NOTIFY_SOCKET', 'NOTIFICATION_FD', 'WATCHDOG_PID', 'WATCHDOG_USEC'];

/** Names a POSIX shell can export; others (`a.b`, `x-y`) cannot pass through the setup shell and are left out. */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names of the variables that carry the setup text to the shell: `${SETUP_VAR_PREFIX}0`, `1`, ... */
export const SETUP_VAR_PREFIX = 'SUPERVISOR_SETUP_';

/**
 * The fixed script of the setup shell: wait for end of file on stdin (the emperor closes it once it has set the
 * chain's start priority), then run the setup text from the environment. The text comes from the emperor, never
 * from argv (argv is world-readable in /proc/PID/cmdline; environment values may be secrets, and /proc/PID/environ
 * is readable only by the process's own user and root). It used to come on stdin, read by `read` a byte at a time
 * (dash reads a pipe so): about 3 ms of a worker's start for 2 KB of text.
 */
export const SETUP_SCRIPT = `read -r _; eval "$${SETUP_VAR_PREFIX}0"`;

/**
 * Bytes (UTF-8) of setup text per variable: the kernel takes at most 131,072 bytes for one environment string,
 * name and NUL included (MAX_ARG_STRLEN, execve(2)); the rest is room for the name and the lines that chain the
 * variables.
 */
export const SETUP_CHUNK_BYTES = 120_000;

/**
 * The setup commands as variables for the shell's environment: each chunk first unsets its own variable (so the
 * program never sees it; the text is already expanded by then), and every chunk but the last ends by running the
 * next. Commands are never split, so a quoted value stays whole. Throws Error when one command alone is larger than
 * a variable can be: no program could be given such a variable either.
 */
export function setupVariables(commands: readonly string[]): Record<string, string> {
  let chunk: string[] = [];
  const chunks = [chunk];
  let size = 0;
  for (const command of commands) {
    const bytes = Buffer.byteLength(command) + 1;
    if (bytes > SETUP_CHUNK_BYTES) {
      // The name only: the value may be a secret.
      const what = /^export ([A-Za-z_][A-Za-z0-9_]*)=/.exec(command)?.[1] ?? command.slice(0, 12);
      throw new Error(`the worker's variable ${what} is too long for the exec chain: its export is ${bytes} bytes, at most ${SETUP_CHUNK_BYTES}`);
    }
    if (size + bytes > SETUP_CHUNK_BYTES) {
      chunk = [];
      chunks.push(chunk);
      size = 0;
    }
    chunk.push(command);
    size += bytes;
  }
  const vars: Record<string, string> = {};
  chunks.forEach((part, i) => {
    const next = i + 1 < chunks.length ? [`eval "$${SETUP_VAR_PREFIX}${i + 1}"`] : [];
    vars[`${SETUP_VAR_PREFIX}${i}`] = `${[`unset ${SETUP_VAR_PREFIX}${i}`, ...part, ...next].join('\n')}\n`;
  });
  return vars;
}

/** systemd forbids ':' in fd names (it is the separator) and limits them to 255 characters. */
export function fdName(address: string): string {
  return address.replace(/:/g, '_').slice(0, 255);
}

/** A word for the shell, quoted so that nothing in it is expanded: `'it'\''s'`. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Builds the exec chain `/usr/bin/setpriv [--reuid U --regid G --init-groups] --pdeathsig KILL -- /bin/sh -c
 * SETUP_SCRIPT supervisor-worker argv...`, started in `/` with ROOT_ENV and the setup text (setupVariables) as its
 * whole environment. setpriv (util-linux) drops privileges and makes the kernel SIGKILL the worker if the emperor
 * dies, even by SIGKILL. Only then does the shell, with the worker's rights, wait for end of file on stdin and run
 * the setup text: exit with 125 if its parent is not `parentPid` (when given: the emperor died before setpriv set
 * that signal), export the worker's environment (base, then the vassal's `env`, then the supervisor's own variables;
 * never one named like the setup carriers), set LISTEN_PID to its own pid (kept by exec), cd into the worker's
 * directory and exec the program. So no variable or path a vassal names is used by a root process. Sockets land on
 * fd 3, 4, ... in order, the notification fd (if any) after. Throws Error when the notification fd collides with a
 * socket, when a variable or the directory holds a NUL byte, and when one command of the text is too large for an
 * environment variable (setupVariables).
 */
export function planLaunch(req: LaunchRequest): LaunchPlan {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.baseEnv)) if (v !== undefined && !ACTIVATION_VARS.includes(k)) env[k] = v;
  Object.assign(env, req.env);
  const creds = req.credentials;
  if (creds?.user) {
    // As systemd's User= does: the account's own names, whatever the base environment said.
    env.USER = creds.user.name;
    env.LOGNAME = creds.user.name;
    env.HOME = creds.user.home;
    if (creds.user.shell) env.SHELL = creds.user.shell;
  }
  Object.assign(env, req.fixedEnv);
  env.SUPERVISOR_VASSAL = req.vassal;
  env.SUPERVISOR_WORKER_ID = String(req.workerId);
  env.SUPERVISOR_GENERATION = String(req.generation);

  const output: StdioEntry = req.outputFd ?? 'pipe';
  const stdio: StdioEntry[] = ['pipe', output, output, ...req.sockets.map((s) => s.fd)];
  if (req.notificationFd !== undefined) {
    if (req.notificationFd < stdio.length) {
      throw new Error(`notification fd ${req.notificationFd} collides with fd ${req.notificationFd} already given to the worker`);
    }
    while (stdio.length < req.notificationFd) stdio.push('ignore');
    stdio.push('pipe');
    env.NOTIFICATION_FD = String(req.notificationFd);
  }
  if (req.notifySocket !== undefined) env.NOTIFY_SOCKET = req.notifySocket;
  const activation = req.sockets.length > 0 && req.socketActivation !== false;
  if (activation) {
    env.LISTEN_FDS = String(req.sockets.length);
    env.LISTEN_FDNAMES = req.sockets.map((s) => fdName(s.name)).join(':');
  }

  // The chain's own carriers of the setup text are not the worker's to set: a vassal's SUPERVISOR_SETUP_1, exported
  // before the text runs its next part, would replace that part.
  const workerEnv = Object.fromEntries(Object.entries(env).filter(([k]) => SHELL_NAME.test(k) && !k.startsWith(SETUP_VAR_PREFIX)));
  // execve(2) takes C strings: a NUL would end a value there, silently. Checked here, by name, because Node's own
  // refusal quotes the start of the value, and the setup text holds every variable's value.
  for (const [k, v] of Object.entries(workerEnv)) {
    if (v.includes('\0')) throw new Error(`the worker's variable ${k} holds a NUL byte, which no environment can carry`);
  }
  if (req.cwd.includes('\0')) throw new Error("the worker's directory holds a NUL byte");
  const lines: string[] = [];
  // setpriv sets the parent-death signal after the fork: a spawner that died before that left the chain to init,
  // and no signal will come. The shell's parent (PPID, read as it starts, after setpriv) tells; such a chain would
  // otherwise read the text to the end of file its parent's death gave it and run the program as an orphan.
  if (req.parentPid !== undefined) lines.push(`[ "$PPID" = ${Math.trunc(req.parentPid)} ] || exit 125`);
  lines.push(...Object.entries(workerEnv).map(([k, v]) => `export ${k}=${shellQuote(v)}`));
  // LISTEN_PID must be the worker's own pid, known only now: the shell's, which exec keeps.
  if (activation) lines.push('LISTEN_PID=$$; export LISTEN_PID');
  lines.push(`cd -- ${shellQuote(req.cwd)} || exit 126`, 'exec </dev/null', 'exec "$@"');

  const args = [...setprivArgs(creds), SH, '-c', SETUP_SCRIPT, 'supervisor-worker', ...req.argv];
  return { file: SETPRIV, args, env: { ...ROOT_ENV, ...setupVariables(lines) }, cwd: '/', stdio, setup: `${lines.join('\n')}\n`, workerEnv };
}
