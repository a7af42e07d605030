import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ownUid, runtimePlace } from '../runtime/runtime-place.js';

/**
 * Where control sockets are. The default is `control.sock` in the runtime root (/run/supervisor for root,
 * $XDG_RUNTIME_DIR/supervisor for other users: runtime-root.ts), outside the per-run directories, so a client finds
 * it without knowing the run id. Only one live emperor holds the default path (a lock, emperor-lock.ts); another
 * emperor of the same user puts its socket in its run directory, `<root>/<run id>/control.sock`, and says so in its
 * log; `supervisor --status` without a path finds it there when the default is not in use.
 */
export const CONTROL_SOCKET_NAME = 'control.sock';

/** The default control socket path of this process's user. Throws RuntimeDirError when there is no runtime root. */
export function defaultControlPath(): string {
  return path.join(runtimePlace().path, CONTROL_SOCKET_NAME);
}

/** The default path of root's emperor, which a member of `control-socket-group` may use. */
export const ROOT_CONTROL_PATH = `/run/supervisor/${CONTROL_SOCKET_NAME}`;

/**
 * The control socket a client uses when given none: the default path of its own user if it exists, else the one
 * socket found in a run directory of its runtime root (another emperor of its own), else root's default (for a
 * member of root's emperor's control-socket-group). Returns the path, or an error saying what was looked at
 * (several emperors of its own and none on the default: it names them).
 */
export function findControlSocket(): { readonly path: string } | { readonly error: string } {
  const { own, inRuns, root, looked } = controlSockets();
  if (own) return { path: own };
  if (inRuns.length === 1) return { path: inRuns[0] as string };
  if (inRuns.length > 1) return { error: `${inRuns.length} emperors run, none on the default control socket: give one of ${inRuns.join(', ')}` };
  if (root) return { path: root };
  return { error: `no control socket at ${looked.join(' or ')}: is the emperor running (as this user)? Give its control-socket path otherwise` };
}

/**
 * Every control socket a client of this user could mean without naming one, in the order findControlSocket prefers
 * them (the default, those of run directories, root's default), with the places looked at. For finding the socket of
 * one given emperor: which of them is its socket only the emperor behind each can say.
 */
export function controlSocketCandidates(): { readonly sockets: readonly string[]; readonly looked: readonly string[] } {
  const { own, inRuns, root, looked } = controlSockets();
  return { sockets: [own, ...inRuns, root].filter((p): p is string => p !== undefined), looked: [...looked, ...inRuns] };
}

function controlSockets(): { own?: string; inRuns: string[]; root?: string; looked: string[] } {
  const looked: string[] = [];
  let runtimeRoot: string | undefined;
  try {
    runtimeRoot = runtimePlace().path;
  } catch {
    // No runtime root of our own: only root's emperor's socket is left to try.
  }
  let own: string | undefined;
  let inRuns: string[] = [];
  if (runtimeRoot) {
    const file = path.join(runtimeRoot, CONTROL_SOCKET_NAME);
    looked.push(file);
    if (isSocket(file)) own = file;
    inRuns = runSockets(runtimeRoot);
  }
  let root: string | undefined;
  if (ownUid() !== 0) {
    looked.push(ROOT_CONTROL_PATH);
    if (isSocket(ROOT_CONTROL_PATH)) root = ROOT_CONTROL_PATH;
  }
  return { own, inRuns, root, looked };
}

function isSocket(p: string): boolean {
  try {
    return lstatSync(p).isSocket();
  } catch {
    return false;
  }
}

/** Control sockets in the run directories of a runtime root (`<root>/<run id>/control.sock`). */
function runSockets(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^[0-9a-f]{16}$/.test(e))
    .map((e) => path.join(root, e, CONTROL_SOCKET_NAME))
    .filter(isSocket);
}

/**
 * Why `dir` is not a safe place for the emperor's control socket, or undefined when it is: a real directory owned
 * by root or by `uid`, that nobody else may write (not even sticky, like /tmp: whoever may create names there could
 * put a socket of their own in its place while the emperor is down, and answer its clients), under directories
 * owned by root or `uid` that nobody else may write unless sticky and root's.
 */
export function unsafeControlDir(dir: string, uid = ownUid()): string | undefined {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (err) {
    return `${dir}: ${(err as Error).message}`;
  }
  for (let p = real, first = true; ; p = path.dirname(p), first = false) {
    const st = lstatSync(p);
    if (!st.isDirectory()) return `${p} is not a directory`;
    if (st.uid !== 0 && st.uid !== uid) return `${p} is owned by uid ${st.uid}`;
    const sharedSticky = !first && (st.mode & 0o1000) !== 0 && st.uid === 0;
    if ((st.mode & 0o022) !== 0 && !sharedSticky) return `${p} is writable by other users (mode ${(st.mode & 0o7777).toString(8)})`;
    if (p === path.dirname(p)) return undefined;
  }
}
