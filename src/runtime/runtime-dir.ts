import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let dir: string | undefined;

/**
 * A private directory for this process's runtime files (workers' notify sockets), created on first use, mode 0711:
 * others may reach a socket whose name they are given, but cannot list the directory. Short, because unix socket
 * paths are limited to 107 bytes.
 */
export function runtimeDir(): string {
  if (!dir) {
    dir = mkdtempSync(path.join(tmpdir(), 'supervisor-'));
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
