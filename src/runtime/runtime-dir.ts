import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let dir: string | undefined;

const PREFIX = 'supervisor-';

/**
 * A private directory for this process's runtime files (workers' notify sockets), created on first use, mode 0711:
 * others may reach a socket whose name they are given, but cannot list the directory. Short, because unix socket
 * paths are limited to 107 bytes. Named after our pid, so that the directories of processes that were killed
 * (no exit hook ran) are recognised and removed here.
 */
export function runtimeDir(): string {
  if (!dir) {
    removeAbandoned();
    dir = mkdtempSync(path.join(tmpdir(), `${PREFIX}${process.pid}-`));
    chmodSync(dir, 0o711);
    // Whoever created it, the process's end removes it (the emperor also removes it when it stops).
    process.once('exit', removeRuntimeDir);
  }
  return dir;
}

/** Removes the runtime directory (at emperor stop). */
export function removeRuntimeDir(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/** Runtime directories of supervisor processes that no longer exist. */
function removeAbandoned(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^supervisor-(\d+)-/.exec(name)?.[1];
    if (!pid || alive(Number(pid))) continue;
    rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
