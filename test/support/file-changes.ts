/**
 * The ways vassal files really change, imitated syscall for syscall (synchronous fs calls, in the order the tools
 * make them), so that a test sees the same inotify events the tool would cause.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const { O_CREAT, O_EXCL, O_WRONLY, O_TRUNC, O_NOFOLLOW, O_RDWR } = fs.constants;

function writeAll(fd: number, text: string): void {
  fs.writeSync(fd, text);
}

/**
 * vim with 'backupcopy=auto' where the file may be renamed (the default on Unix, 'writebackup' on, 'backup' off):
 * the swap file exists while editing; on :w, vim probes with a file named 4913 whether it may create files in the
 * directory, renames the original to the backup `x~`, writes a new file, fsyncs it, then deletes the backup.
 */
export function vimSession(file: string): { save: (text: string) => void; quit: () => void } {
  const dir = path.dirname(file);
  const swap = path.join(dir, `.${path.basename(file)}.swp`);
  const swapFd = fs.openSync(swap, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  writeAll(swapFd, 'b0VIM 9.0'.padEnd(4096, '\0'));
  return {
    save(text) {
      const probe = path.join(dir, '4913');
      fs.closeSync(fs.openSync(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644));
      fs.unlinkSync(probe);
      const backup = `${file}~`;
      const mode = fs.statSync(file).mode & 0o7777;
      fs.renameSync(file, backup);
      const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_TRUNC, mode);
      writeAll(fd, text);
      fs.fsyncSync(fd);
      fs.fchmodSync(fd, mode);
      fs.closeSync(fd);
      writeAll(swapFd, '\0'.repeat(4096));
      fs.unlinkSync(backup);
    },
    quit() {
      fs.closeSync(swapFd);
      fs.unlinkSync(swap);
    },
  };
}

/**
 * vim where the file may not be renamed ('backupcopy=yes', or a file with several links): copies the original to
 * the backup, then truncates and rewrites the file in place (what Debian's vim does in ex mode, as strace shows).
 */
export function saveLikeVimInPlace(file: string, text: string): void {
  const backup = `${file}~`;
  fs.copyFileSync(file, backup);
  const fd = fs.openSync(file, O_WRONLY | O_CREAT, 0o644);
  fs.ftruncateSync(fd, 0);
  writeAll(fd, text);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.unlinkSync(backup);
}

/**
 * emacs: at the first change it makes the lock link `.#x` (a dangling symlink naming user@host.pid); on its first
 * save it renames the original to the backup `x~` (which stays), writes a new file, and removes the lock.
 */
export function saveLikeEmacs(file: string, text: string): void {
  const lock = path.join(path.dirname(file), `.#${path.basename(file)}`);
  fs.symlinkSync(`root@host.${process.pid}:1700000000`, lock);
  fs.renameSync(file, `${file}~`);
  const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
  writeAll(fd, text);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.unlinkSync(lock);
}

/** nano (with --locking): a lock file `.x.swp` while editing; saves by truncating and writing in place. */
export function saveLikeNano(file: string, text: string): void {
  const lock = path.join(path.dirname(file), `.${path.basename(file)}.swp`);
  fs.writeFileSync(lock, 'b0nano 7.2'.padEnd(1024, '\0'));
  const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
  writeAll(fd, text);
  fs.closeSync(fd);
  fs.unlinkSync(lock);
}

/** VS Code-style atomic save (also Ansible, Salt, renameio): a temp file in the same directory, fsync, rename over. */
export function saveLikeVsCode(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644);
  writeAll(fd, text);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

/**
 * JetBrains "safe write": the new content to `x___jb_tmp___`, the original renamed to `x___jb_old___`, the new one
 * renamed into place, the old one deleted. Between the two renames, `x` does not exist.
 */
export function saveLikeJetBrains(file: string, text: string): void {
  fs.writeFileSync(`${file}___jb_tmp___`, text);
  fs.renameSync(file, `${file}___jb_old___`);
  fs.renameSync(`${file}___jb_tmp___`, file);
  fs.unlinkSync(`${file}___jb_old___`);
}

/** saveLikeJetBrains by an editor that is descheduled for `pauseMs` between each step. */
export async function saveLikeJetBrainsSlowly(file: string, text: string, pauseMs: number): Promise<void> {
  fs.writeFileSync(`${file}___jb_tmp___`, text);
  await sleep(pauseMs);
  fs.renameSync(file, `${file}___jb_old___`);
  await sleep(pauseMs);
  fs.renameSync(`${file}___jb_tmp___`, file);
  await sleep(pauseMs);
  fs.unlinkSync(`${file}___jb_old___`);
}

/** A writer that delivers a file in pieces (scp over a slow link, `cat > x` typed): open, write, pause, write... */
export async function writeInChunks(file: string, chunks: readonly string[], pauseMs: number): Promise<void> {
  const fd = fs.openSync(file, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
  try {
    for (const [i, chunk] of chunks.entries()) {
      if (i > 0) await sleep(pauseMs);
      writeAll(fd, chunk);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A ConfigMap volume as the kubelet's AtomicWriter keeps it: files in a timestamped directory
 * `..2026_11_21_10_00_00.<random>`, `..data` a symlink to it, and each user-visible name a symlink `x -> ..data/x`.
 * `write(payload)` does what one AtomicWriter.Write does: new timestamped dir with the payload, `..data_tmp`
 * symlink to it, rename over `..data` (the atomic swap), links for new names, removal of names no longer in the
 * payload, removal of the old timestamped dir. Returns the new timestamped dir's name.
 */
export function kubeletWrite(volume: string, payload: Readonly<Record<string, string>>): string {
  const dataDir = path.join(volume, '..data');
  const oldTs = fs.existsSync(dataDir) ? fs.readlinkSync(dataDir) : undefined;
  const previous = oldTs ? fs.readdirSync(path.join(volume, oldTs)) : [];
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-T:]/g, '_');
  const tsDir = fs.mkdtempSync(path.join(volume, `..${stamp}.`));
  fs.chmodSync(tsDir, 0o755);
  for (const [name, content] of Object.entries(payload)) {
    fs.writeFileSync(path.join(tsDir, name), content, { mode: 0o644 });
    fs.chmodSync(path.join(tsDir, name), 0o644);
  }
  const tmpLink = path.join(volume, '..data_tmp');
  fs.symlinkSync(path.basename(tsDir), tmpLink);
  fs.renameSync(tmpLink, dataDir);
  for (const name of Object.keys(payload)) {
    const visible = path.join(volume, name);
    if (!isLink(visible)) fs.symlinkSync(path.join('..data', name), visible);
  }
  for (const name of previous) if (!(name in payload)) fs.rmSync(path.join(volume, name), { force: true });
  if (oldTs) fs.rmSync(path.join(volume, oldTs), { recursive: true, force: true });
  return path.basename(tsDir);
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
