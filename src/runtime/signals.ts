/**
 * What each signal means to the emperor (and to a single vassal run in the foreground). Every signal it can receive
 * has a defined meaning; the table is in the README ("Signals").
 *
 * - SIGINT, SIGQUIT: stop. SIGTERM: stop (or reload with die-on-term = false). SIGHUP: reload. SIGUSR1: write the
 *   status snapshot to the log (uWSGI's habit); without a listener it would make Node start its inspector (a
 *   debugger anyone on the host could attach to, as root), so it is guarded from the very start (guardSignals).
 *   SIGUSR2: reopen the log files (after an external rotation; `supervisor --reopen-logs`).
 * - IGNORED_SIGNALS: handled, logged and otherwise ignored.
 * - SIGPIPE and SIGXFSZ: ignored by Node itself (a write then fails with EPIPE or EFBIG, which the log sink
 *   handles). Not logged: a log write that raises one would raise it again.
 * - SIGCHLD, SIGCONT, SIGURG, SIGWINCH: ignored by default. SIGTSTP, SIGTTIN, SIGTTOU: stop the process (job control),
 *   as for any program. SIGKILL and SIGSTOP cannot be handled.
 * - SIGSEGV, SIGBUS, SIGFPE, SIGILL (faults: a listener cannot safely run after a real one) and SIGABRT (a core dump
 *   on purpose): default action; the emperor dies and the parent-death signal takes its workers.
 * - Realtime signals (SIGRTMIN..SIGRTMAX): Node cannot listen to them; they end the process. Only root and the
 *   emperor's user can signal it at all.
 */

/** What a signal asks the emperor to do. Handlers only enqueue; the emperor's loop acts (circus, s6). */
export type SignalCommand =
  | { readonly type: 'stop'; readonly signal: NodeJS.Signals }
  | { readonly type: 'reload'; readonly signal: NodeJS.Signals }
  | { readonly type: 'reopen-logs'; readonly signal: NodeJS.Signals }
  | { readonly type: 'status'; readonly signal: NodeJS.Signals };

export interface SignalPolicy {
  /** uWSGI 2.1 semantics: SIGTERM stops (true, the default); false restores 2.0's "SIGTERM reloads". */
  readonly dieOnTerm: boolean;
}

/**
 * The meaning of each handled signal. SIGINT and SIGQUIT always stop; SIGHUP always reloads; SIGUSR1 logs the status;
 * SIGUSR2 reopens logs.
 */
export function commandFor(signal: NodeJS.Signals, policy: SignalPolicy): SignalCommand | undefined {
  switch (signal) {
    case 'SIGINT':
    case 'SIGQUIT':
      return { type: 'stop', signal };
    case 'SIGTERM':
      return policy.dieOnTerm ? { type: 'stop', signal } : { type: 'reload', signal };
    case 'SIGHUP':
      return { type: 'reload', signal };
    case 'SIGUSR1':
      return { type: 'status', signal };
    case 'SIGUSR2':
      return { type: 'reopen-logs', signal };
    default:
      return undefined;
  }
}

const COMMAND_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];

/**
 * Signals that are handled and ignored, with what they are kept for. Their default action would end the process: an
 * operator's habit or a stray `kill` must not end supervision.
 */
export const IGNORED_SIGNALS: Readonly<Partial<Record<NodeJS.Signals, string>>> = {
  SIGALRM: 'not used by the emperor; ignored',
  SIGVTALRM: 'not used by the emperor; ignored',
  SIGPROF: 'not used by the emperor; ignored',
  SIGIO: 'not used by the emperor (SIGPOLL); ignored',
  SIGPWR: 'power failure notice: the emperor keeps running until told to stop; ignored',
  SIGSTKFLT: 'not used; ignored',
  SIGTRAP: 'no debugger is attached; ignored',
  SIGXCPU: 'CPU time soft limit reached: the hard limit ends the process; ignored',
  SIGSYS: 'bad system call; ignored',
};

/**
 * Signals left to their default action, or to Node's own handling, with why. With COMMAND_SIGNALS and
 * IGNORED_SIGNALS, every signal Node knows (os.constants.signals) is listed here: signalMeaning covers them all.
 */
export const DEFAULT_SIGNALS: Readonly<Partial<Record<NodeJS.Signals, string>>> = {
  SIGPIPE: 'ignored by Node: the write fails with EPIPE instead (not logged: a log write could raise it again)',
  SIGXFSZ: 'ignored by Node: the write fails with EFBIG instead (not logged: a log write could raise it again)',
  SIGCHLD: 'ignored by default (Node reaps children itself)',
  SIGCONT: 'ignored by default (resumes a stopped process)',
  SIGURG: 'ignored by default',
  SIGWINCH: 'ignored by default',
  SIGTSTP: 'stops the process (job control, as for any program)',
  SIGTTIN: 'stops the process (job control, as for any program)',
  SIGTTOU: 'stops the process (job control, as for any program)',
  SIGKILL: 'cannot be handled: the emperor dies, the parent-death signal takes its workers, a restart sweeps the rest',
  SIGSTOP: 'cannot be handled: stops the process',
  SIGSEGV: 'a fault: no listener can run safely after a real one; the emperor dies with its workers',
  SIGBUS: 'a fault: no listener can run safely after a real one; the emperor dies with its workers',
  SIGFPE: 'a fault: no listener can run safely after a real one; the emperor dies with its workers',
  SIGILL: 'a fault: no listener can run safely after a real one; the emperor dies with its workers',
  SIGABRT: 'dumps core, on purpose (how to get a core of a hung emperor); the emperor dies with its workers',
  SIGIOT: 'the same signal as SIGABRT',
  SIGPOLL: 'the same signal as SIGIO (ignored)',
};

/** What `signal` means to the emperor, in words (for docs and tests); undefined for a name Node does not know. */
export function signalMeaning(signal: NodeJS.Signals): string | undefined {
  switch (signal) {
    case 'SIGINT':
    case 'SIGQUIT':
      return 'stop';
    case 'SIGTERM':
      return 'stop (reload with die-on-term = false)';
    case 'SIGHUP':
      return 'reload every vassal';
    case 'SIGUSR1':
      return 'write the status snapshot to the log (uWSGI prints its vassals on SIGUSR1)';
    case 'SIGUSR2':
      return 'reopen the log files (the emperor\'s and every vassal\'s logto), e.g. after logrotate renamed them';
    default:
      return IGNORED_SIGNALS[signal] ?? DEFAULT_SIGNALS[signal];
  }
}

/**
 * Listeners that do nothing, on every ignored signal, installed as the very first thing the CLI does (before its
 * modules load) and never removed: from then on SIGUSR1 cannot start the inspector and no ignored signal can end the
 * process, even between routeSignals' removal and exit. (Node starts its inspector on SIGUSR1 only while no
 * listener is installed. Before this runs, during Node's own start, it still would: Node 20 has no option to turn
 * that off; `--disable-sigusr1` came with Node 22.14.)
 */
export function guardSignals(): void {
  for (const signal of GUARDED_SIGNALS) process.on(signal, () => {});
}

/** Signals whose default action would start the inspector or end the process, before routeSignals gives them a use. */
export const GUARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2', ...(Object.keys(IGNORED_SIGNALS) as NodeJS.Signals[])];

/**
 * Routes the command signals to `onCommand` and the ignored ones to `onIgnored` (to be logged, with the reason).
 * Returns the function that removes the handlers.
 */
export function routeSignals(
  policy: SignalPolicy,
  onCommand: (command: SignalCommand) => void,
  onIgnored: (signal: NodeJS.Signals, reason: string) => void = () => {},
): () => void {
  const handlers: [NodeJS.Signals, () => void][] = [];
  for (const signal of COMMAND_SIGNALS) {
    handlers.push([
      signal,
      () => {
        const command = commandFor(signal, policy);
        if (command) onCommand(command);
      },
    ]);
  }
  for (const [signal, reason] of Object.entries(IGNORED_SIGNALS) as [NodeJS.Signals, string][]) handlers.push([signal, () => onIgnored(signal, reason)]);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
