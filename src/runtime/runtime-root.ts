import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readSync, realpathSync, unlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { writeExclusive } from './exclusive-file.js';
import { ownUid, RuntimeDirError, runtimePlace } from './runtime-place.js';

/**
 * The runtime root: that nobody else can change it, and the lock secret in it (where it is: runtime-place.ts). The
 * runs in it are runtime-dir.ts'.
 */
/**
 * Why `dir` cannot be the runtime root of `uid`, or undefined when it can: it must be a real directory (lstat: not a
 * symlink) owned by `uid`, writable by nobody else, and every directory above it must be owned by root or `uid` and
 * writable by nobody else, unless sticky and root's (like /tmp), so that nobody else can rename it away.
 */
export function unsafeRuntimeRoot(dir: string, uid: number): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (err) {
    return `${dir}: ${(err as Error).message}`;
  }
  if (st.isSymbolicLink()) return `${dir} is a symlink`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (st.uid !== uid) return `${dir} is owned by uid ${st.uid}, not ${uid}`;
  if ((st.mode & 0o022) !== 0) return `${dir} is writable by other users (mode ${(st.mode & 0o7777).toString(8)})`;
  let parent: string;
  try {
    parent = realpathSync(path.dirname(dir));
  } catch (err) {
    return `${path.dirname(dir)}: ${(err as Error).message}`;
  }
  for (let p = parent; ; p = path.dirname(p)) {
    const above = lstatSync(p);
    if (above.uid !== 0 && above.uid !== uid) return `${p} (above ${dir}) is owned by uid ${above.uid}`;
    const sharedSticky = (above.mode & 0o1000) !== 0 && above.uid === 0;
    if ((above.mode & 0o022) !== 0 && !sharedSticky) return `${p} (above ${dir}) is writable by other users (mode ${(above.mode & 0o7777).toString(8)})`;
    if (p === path.dirname(p)) return undefined;
  }
}

let secret: Buffer | undefined;

/**
 * Creates the runtime root if missing (with its exact mode, whatever the umask) and checks it. Returns its path.
 * Throws RuntimeDirError with the reason when it is not safe to use.
 */
export function openRuntimeRoot(): string {
  const { path: root, mode } = runtimePlace();
  if (mode === 0o700) mkdirSync(path.dirname(root), { recursive: true, mode: 0o700 });
  try {
    mkdirSync(root, mode);
    // The umask may have taken bits away; the check below refuses whatever this did not make.
    if (lstatSync(root).isDirectory()) chmodSync(root, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RuntimeDirError(`cannot create the runtime directory ${root}: ${(err as Error).message}`);
  }
  const unsafe = unsafeRuntimeRoot(root, ownUid());
  if (unsafe) throw new RuntimeDirError(`unsafe runtime directory: ${unsafe}; remove it or fix its ownership and mode`);
  return root;
}

const SECRET_BYTES = 32;

/**
 * The secret lock names are derived from (emperor-lock.ts): 32 random bytes in `secret` in the runtime root, mode
 * 0600, created once (concurrent first starts agree: each writes a temp file and links it into place; the first
 * link wins). Throws RuntimeDirError when the file is not a private regular file of ours.
 */
export function runtimeSecret(): Buffer {
  if (secret) return secret;
  const root = openRuntimeRoot();
  const file = path.join(root, 'secret');
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new RuntimeDirError(`${file} is a symlink`);
    if (code !== 'ENOENT') throw new RuntimeDirError(`cannot read ${file}: ${(err as Error).message}`);
    writeSecret(root, randomBytes(SECRET_BYTES));
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== ownUid() || (st.mode & 0o077) !== 0 || st.size !== SECRET_BYTES) {
      throw new RuntimeDirError(`${file} is not a private ${SECRET_BYTES}-byte file of uid ${ownUid()} (mode ${(st.mode & 0o7777).toString(8)}, uid ${st.uid}, ${st.size} bytes); remove it`);
    }
    const buf = Buffer.alloc(SECRET_BYTES);
    if (readSync(fd, buf, 0, SECRET_BYTES, 0) !== SECRET_BYTES) throw new RuntimeDirError(`${file}: short read`);
    secret = buf;
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Puts `value` at root/secret unless a secret is already there. */
function writeSecret(root: string, value: Buffer): void {
  const tmp = path.join(root, `.secret-${randomBytes(6).toString('hex')}`);
  writeExclusive(tmp, value, 0o600);
  try {
    linkSync(tmp, path.join(root, 'secret'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}


/**
 * After the root was removed under us: puts back the secret this process holds (a new one would give new lock
 * names, which a second emperor would then not find held).
 */
export function restoreSecret(root: string): void {
  if (secret) writeSecret(root, secret);
}
