import type { ControlAction } from './control-line.js';
import type { Output } from './inspect-files.js';
import { sendRequest } from '../control/control-client.js';
import type { ControlRequest } from '../control/control-protocol.js';
import type { Snapshot } from '../control/snapshot.js';
import { formatStatusTable, statusExitCode } from '../control/status-table.js';
import type { OutputEntry } from '../logs/output-ring.js';

/**
 * `supervisor --status`, `--metrics`, `--reload-vassal`, `--restart-worker`, `--logs`: one request to a running
 * emperor's control socket, its answer printed. Exit status: 0 done (for --status: everything running and ready),
 * 1 the command failed or the emperor could not be reached, 3 --status found something not running as it should.
 */
export async function runControl(action: ControlAction, socket: string | undefined, json: boolean, out: Output, signal?: AbortSignal): Promise<number> {
  let socketPath = socket;
  if (action.kind === 'reload-all') {
    // The emperor is named (a pidfile or pid): its socket is the one whose emperor has that pid, or, when given, the
    // socket must be its own (a reload must not wait on another emperor's vassals).
    const found = await emperorSocket(action.emperor, socket, signal);
    if ('error' in found) {
      if (!found.unreachable) {
        out.err(`supervisor: ${found.error}\n`);
        return 1;
      }
      // The emperor runs without a control socket this user can reach: the reload is still done, as a SIGHUP, and the
      // exit status says that it could not be waited for (`systemctl reload` then reports a failure, with this line).
      // Only to a live process that runs this very program: a stale pidfile's pid may be anybody's by now.
      const { runsThisProgram } = await import('../runtime/control.js');
      const { pid } = found;
      const running = runsThisProgram(pid);
      if (running !== true) {
        out.err(`supervisor: ${found.error}; and process ${pid} ${running}: nothing was sent\n`);
        return 1;
      }
      process.kill(pid, 'SIGHUP');
      out.err(`supervisor: ${found.error}; sent SIGHUP to emperor ${pid} instead: it reloads, but this command cannot wait for the rolls\n`);
      return 1;
    }
    socketPath = found.path;
  } else if (socketPath === undefined) {
    // Loaded only to look for the socket: `--status PATH` does without it.
    const { findControlSocket } = await import('../control/control-path.js');
    const found = findControlSocket();
    if ('error' in found) {
      out.err(`supervisor: ${found.error}\n`);
      return 1;
    }
    socketPath = found.path;
  }
  const request = requestFor(action);
  let code = 1;
  let first = true;
  // --logs: the vassal's name as the emperor knows it, from the first answer.
  const state = { vassal: 'vassal' in action ? action.vassal : '' };
  await sendRequest(
    socketPath,
    request,
    (message) => {
      const isFirst = first;
      first = false;
      if (isFirst && message.ok !== true) {
        out.err(`supervisor: ${String(message.error ?? 'the emperor refused the command')}\n`);
        if (json) out.out(`${JSON.stringify(message)}\n`);
        code = 1;
        return;
      }
      code = print(action, message, { json, first: isFirst, state }, out) ?? code;
    },
    signal,
  );
  if (first && !signal?.aborted) {
    out.err(`supervisor: the emperor closed the connection without an answer (it may be stopping; see its log)\n`);
    return 1;
  }
  return code;
}

function requestFor(action: ControlAction): ControlRequest {
  switch (action.kind) {
    case 'status':
    case 'metrics':
      return { command: action.kind };
    case 'reload-vassal':
      return { command: 'reload', vassal: action.vassal, wait: true };
    case 'reload-all':
      return { command: 'reload', wait: true };
    case 'restart-worker':
      return { command: 'restart-worker', vassal: action.vassal, worker: action.worker, force: action.force };
    case 'logs':
      return { command: 'logs', vassal: action.vassal, follow: action.follow, lines: action.lines ?? 50 };
  }
}

/** Prints one answer message; returns the exit code it decides, if any. */
function print(action: ControlAction, message: Record<string, unknown>, how: { json: boolean; first: boolean; state: { vassal: string } }, out: Output): number | undefined {
  const { json, first, state } = how;
  switch (action.kind) {
    case 'status': {
      const snapshot = message.snapshot as Snapshot;
      out.out(json ? `${JSON.stringify(snapshot, null, 2)}\n` : formatStatusTable(snapshot));
      return statusExitCode(snapshot);
    }
    case 'metrics':
      out.out(String(message.metrics));
      return 0;
    case 'reload-vassal':
    case 'reload-all':
    case 'restart-worker':
      if (json) out.out(`${JSON.stringify(message)}\n`);
      else out.out(`${action.kind === 'restart-worker' ? describeRestart(action.vassal, action.worker, message) : describeReload(message)}\n`);
      return 0;
    case 'logs': {
      if (first) {
        if (typeof message.vassal === 'string') state.vassal = message.vassal;
        return 0;
      }
      if (json) out.out(`${JSON.stringify(message)}\n`);
      else if (message.line) out.out(`${formatLine(state.vassal, message.line as OutputEntry)}\n`);
      else if (message.dropped) out.err(`supervisor: ${String(message.dropped)} line(s) dropped: this client did not read fast enough\n`);
      return undefined;
    }
  }
}

/**
 * The control socket of the emperor `target` (a pidfile or pid) names: `given` if its emperor is that one, else,
 * with none given, the one among this user's control sockets (controlSocketCandidates) whose emperor it is. An
 * error says why there is none; `unreachable` (with the pid) when the emperor's socket was not found among them.
 */
async function emperorSocket(
  target: string,
  given: string | undefined,
  signal: AbortSignal | undefined,
): Promise<{ readonly path: string } | { readonly error: string; readonly unreachable?: false } | { readonly error: string; readonly unreachable: true; readonly pid: number }> {
  const { targetPid } = await import('../runtime/control.js');
  let pid: number;
  try {
    pid = targetPid(target);
  } catch (err) {
    return { error: (err as Error).message };
  }
  if (given !== undefined) {
    const behind = await emperorBehind(given, signal);
    if (typeof behind === 'string') return { error: behind };
    if (behind !== pid) return { error: `the control socket ${given} belongs to emperor ${behind}, not ${pid}: give its --control-socket PATH` };
    return { path: given };
  }
  const { controlSocketCandidates } = await import('../control/control-path.js');
  const { sockets, looked } = controlSocketCandidates();
  const others: string[] = [];
  for (const candidate of sockets) {
    // A socket that does not answer (a stale file, another user's) is not this emperor's: the next one may be.
    const behind = await emperorBehind(candidate, signal);
    if (behind === pid) return { path: candidate };
    others.push(typeof behind === 'number' ? `${candidate} is emperor ${behind}'s` : behind);
  }
  const where = others.length > 0 ? `(${others.join('; ')})` : `at ${looked.join(', ')}`;
  return { error: `no control socket of emperor ${pid} ${where}; if its config sets control-socket, give --control-socket PATH`, unreachable: true, pid };
}

/** The pid of the emperor answering on `socketPath`, or why it cannot be known. */
async function emperorBehind(socketPath: string, signal: AbortSignal | undefined): Promise<number | string> {
  let answer: Record<string, unknown> | undefined;
  try {
    await sendRequest(socketPath, { command: 'status' }, (message) => (answer ??= message), signal);
  } catch (err) {
    return (err as Error).message;
  }
  const snapshot = answer?.ok === true ? (answer.snapshot as Snapshot | undefined) : undefined;
  return snapshot ? snapshot.emperor.pid : `${socketPath}: ${String(answer?.error ?? 'no status')}`;
}

function describeReload(message: Record<string, unknown>): string {
  const results = (message.results ?? []) as { vassal: string; result: string; generation?: number }[];
  return results.map((r) => `${r.vassal}: ${r.result === 'started' ? 'started' : `reloaded: runs generation ${r.generation}`}`).join('\n');
}

function describeRestart(vassal: string, worker: number, message: Record<string, unknown>): string {
  const replaced = (message.replaced ?? []) as number[];
  return `worker ${worker} of ${vassal} restarted: pid ${replaced.join(', ') || '?'} replaced by ${String(message.pid ?? '?')}`;
}

// A log-direct vassal's lines are read back from its file: which worker wrote them is not known.
const STREAM_TAG: Record<OutputEntry['stream'], string> = { stdout: 'out', stderr: 'err', file: 'log' };

/**
 * `12:04:05.123 app.ini[2] 4711 out| text`: time (UTC), vassal and worker id, pid, stream (`log` and `[-] -` for a
 * line read back from a log-direct file). A worker's bytes never reach the terminal as control characters (a
 * tenant's worker could otherwise send escape sequences to an administrator's terminal): C0 (but tab), DEL and C1
 * are written as `\xNN`, as journalctl does.
 */
export function formatLine(vassal: string, line: OutputEntry): string {
  const time = new Date(line.time).toISOString().slice(11, 23);
  const text = line.line.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${time} ${vassal.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}[${line.worker ?? '-'}] ${line.pid ?? '-'} ${STREAM_TAG[line.stream]}| ${text}`;
}
