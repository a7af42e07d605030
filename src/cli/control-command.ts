import type { ControlAction } from './control-line.js';
import type { Output } from './inspect-files.js';
import { sendRequest } from '../control/control-client.js';
import { findControlSocket } from '../control/control-path.js';
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
  if (socketPath === undefined) {
    const found = findControlSocket();
    if ('error' in found) {
      out.err(`supervisor: ${found.error}\n`);
      return 1;
    }
    socketPath = found.path;
  }
  if (action.kind === 'reload-all') {
    const mismatch = await otherEmperor(socketPath, action.emperor, signal);
    if (mismatch) {
      out.err(`supervisor: ${mismatch}\n`);
      return 1;
    }
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
 * Why the emperor behind `socketPath` is not the one `target` (a pidfile or pid) names, or undefined when it is: a
 * reload must not wait on another emperor's vassals (a second emperor of the same user has its own socket).
 */
async function otherEmperor(socketPath: string, target: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  const { targetPid } = await import('../runtime/control.js');
  let pid: number;
  try {
    pid = targetPid(target);
  } catch (err) {
    return (err as Error).message;
  }
  let answer: Record<string, unknown> | undefined;
  await sendRequest(socketPath, { command: 'status' }, (message) => (answer ??= message), signal);
  const snapshot = answer?.ok === true ? (answer.snapshot as Snapshot | undefined) : undefined;
  if (!snapshot) return `${socketPath}: ${String(answer?.error ?? 'no status')}`;
  if (snapshot.emperor.pid !== pid) return `the control socket ${socketPath} belongs to emperor ${snapshot.emperor.pid}, not ${pid}: give its --control-socket PATH`;
  return undefined;
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
