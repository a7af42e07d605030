import { lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Where the runtime root is (a fixed place, never /tmp: see runtimeRootFor): what a client needs to find an emperor's
 * control socket, apart from what making and checking the root takes (runtime-root.ts), which a client never loads.
 */
export class RuntimeDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeDirError';
  }
}

/** Where the runtime root is, and how it was chosen. */
export interface RuntimePlace {
  readonly path: string;
  /** Mode it is created with: 0755 for root (workers of other users reach their notify sockets), else 0700. */
  readonly mode: number;
  /** Candidates passed over, with the reason (for a warning). */
  readonly skipped: readonly string[];
}

/** What runtimeRootFor needs to know of a directory (lstat); undefined when it does not exist. */
export type Inspect = (p: string) => { readonly uid: number; readonly mode: number; readonly isDirectory: boolean } | undefined;

/**
 * The runtime root for `uid`: `/run/supervisor` for root (what systemd's `RuntimeDirectory=supervisor` makes);
 * for other users `$XDG_RUNTIME_DIR/supervisor`, else `/run/user/UID/supervisor`, each only if that directory is
 * the user's own and closed to others (mode 0700, as pam_systemd makes it); else `$HOME/.cache/supervisor`.
 * Pure apart from `inspect`. Throws RuntimeDirError when there is no home either.
 */
export function runtimeRootFor(uid: number, env: { readonly XDG_RUNTIME_DIR?: string }, home: string | undefined, inspect: Inspect): RuntimePlace {
  if (uid === 0) return { path: '/run/supervisor', mode: 0o755, skipped: [] };
  const skipped: string[] = [];
  const candidates: [string, string][] = [];
  if (env.XDG_RUNTIME_DIR) candidates.push([env.XDG_RUNTIME_DIR, `XDG_RUNTIME_DIR=${env.XDG_RUNTIME_DIR}`]);
  candidates.push([`/run/user/${uid}`, `/run/user/${uid}`]);
  for (const [dir, label] of candidates) {
    const st = path.isAbsolute(dir) ? inspect(dir) : undefined;
    const why = !path.isAbsolute(dir)
      ? 'not an absolute path'
      : !st
        ? 'does not exist'
        : !st.isDirectory
          ? 'not a directory (or a symlink)'
          : st.uid !== uid
            ? `owned by uid ${st.uid}, not ${uid}`
            : (st.mode & 0o077) !== 0
              ? `open to other users (mode ${(st.mode & 0o7777).toString(8)})`
              : undefined;
    if (!why) return { path: path.join(dir, 'supervisor'), mode: 0o700, skipped };
    if (dir === env.XDG_RUNTIME_DIR) skipped.push(`${label}: ${why}`);
  }
  if (!home || !path.isAbsolute(home)) throw new RuntimeDirError(`no runtime directory for uid ${uid}: no usable XDG_RUNTIME_DIR or /run/user/${uid}, and no home directory`);
  return { path: path.join(home, '.cache', 'supervisor'), mode: 0o700, skipped };
}

/** This process's uid. */
export const ownUid = (): number => process.getuid?.() ?? 0;
const inspect: Inspect = (p) => {
  try {
    const st = lstatSync(p);
    return { uid: st.uid, mode: st.mode, isDirectory: st.isDirectory() };
  } catch {
    return undefined;
  }
};

let place: RuntimePlace | undefined;

/** Where the runtime root of this process is (chosen once). */
export function runtimePlace(): RuntimePlace {
  place ??= runtimeRootFor(ownUid(), process.env, process.env.HOME || homedir(), inspect);
  return place;
}
