/**
 * The kernel's answer to a bind helper step, in words an operator can act on: which socket, who tried, what to
 * change. Pure; the errno code stays at the end of the message (and in BindError.code) for searching.
 */
import path from 'node:path';
import { FIRST_UNPRIVILEGED_PORT, PRIVILEGED_PORTS_OPTION } from './tenant-rules.js';

export type HelperStep = 'bind' | 'listen' | 'chown' | 'remove-stale' | 'inspect';

export type StepTarget = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export interface StepFailure {
  readonly step: HelperStep;
  readonly code: string;
  /** The system's own message, used when we have nothing better to say. */
  readonly detail: string;
  readonly target: StepTarget;
  /** The socket's name (its address text). */
  readonly socket: string;
  /** The uid the helper ran the step as. */
  readonly uid: number;
  /** Whether the helper acted for a tenant (tyrant mode). */
  readonly tyrant: boolean;
  /** chown-socket as written, for chown failures. */
  readonly owner?: string;
}

function reason(f: StepFailure): string {
  const { target, code } = f;
  if (target.kind === 'unix') {
    const dir = path.dirname(target.path);
    if (f.step === 'bind') {
      if (code === 'EACCES' || code === 'EPERM') return `uid ${f.uid} may not create a socket in ${dir}`;
      if (code === 'ENOENT') return `directory ${dir} does not exist`;
      if (code === 'ENOTDIR') return `a part of ${dir} is not a directory`;
      if (code === 'EADDRINUSE') return `${target.path} appeared while the socket was being bound`;
      if (code === 'EROFS') return `${dir} is on a read-only file system`;
    }
    if (f.step === 'remove-stale' && (code === 'EACCES' || code === 'EPERM')) {
      return `a stale socket file (nothing listens on it) is in the way, and uid ${f.uid} may not remove it from ${dir}`;
    }
    if (f.step === 'inspect' && (code === 'EACCES' || code === 'EPERM')) return `uid ${f.uid} may not look into ${dir}`;
    if (f.step === 'chown' && (code === 'EPERM' || code === 'EACCES')) return `chown-socket = ${f.owner ?? '?'}: uid ${f.uid} may not give the socket to that owner`;
  } else if (f.step === 'bind') {
    if (code === 'EACCES' || code === 'EPERM') {
      if (target.port < FIRST_UNPRIVILEGED_PORT) {
        return f.tyrant
          ? `port ${target.port} is below ${FIRST_UNPRIVILEGED_PORT}; in tyrant mode, ports below ${FIRST_UNPRIVILEGED_PORT} need ${PRIVILEGED_PORTS_OPTION} on the emperor`
          : `port ${target.port} is below ${FIRST_UNPRIVILEGED_PORT}, and uid ${f.uid} may not bind it (ports below ${FIRST_UNPRIVILEGED_PORT} need root)`;
      }
      return `uid ${f.uid} may not bind port ${target.port}`;
    }
    if (code === 'EADDRINUSE') return 'address already in use';
    if (code === 'EADDRNOTAVAIL') return `no local interface has the address ${target.host}`;
  }
  return `${f.step} failed: ${f.detail}`;
}

/** "socket NAME: what went wrong (CODE)". */
export function explainStepFailure(f: StepFailure): string {
  return `socket ${f.socket}: ${reason(f)} (${f.code})`;
}
