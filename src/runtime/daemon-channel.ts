import { closeSync, writeSync } from 'node:fs';

// The daemon's end of `daemonize` (daemonize.ts starts it): apart, so that every command can look for it at start
// without loading what starting a daemon takes.

/** The variable that tells the daemon which of its descriptors leads back to the parent. */
export const DAEMON_FD_VARIABLE = 'SUPERVISOR_DAEMON_FD';

/** The daemon's side: say once that it is up (pidfile written, sockets listening, directories watched), or why not. */
export interface DaemonChannel {
  ready(): void;
  failed(message: string): void;
}

/**
 * The channel to the parent when this process is a daemon the parent started, else undefined. The variable is
 * removed, so nothing this process starts sees it.
 */
export function daemonChannel(env: NodeJS.ProcessEnv = process.env): DaemonChannel | undefined {
  const raw = env[DAEMON_FD_VARIABLE];
  if (raw === undefined) return undefined;
  delete env[DAEMON_FD_VARIABLE];
  const fd = Number(raw);
  if (!Number.isSafeInteger(fd) || fd < 3) return undefined;
  let said = false;
  const say = (line: string): void => {
    if (said) return;
    said = true;
    try {
      writeSync(fd, `${line.replace(/\n/g, ' ')}\n`);
      closeSync(fd);
    } catch {
      // The parent is gone (killed): nobody to tell.
    }
  };
  return { ready: () => say(`ready ${process.pid}`), failed: (message) => say(`error ${message}`) };
}
