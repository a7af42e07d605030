import { readdir, readFile, readlink } from 'node:fs/promises';
import net from 'node:net';

/**
 * Who holds a listening unix socket in the abstract namespace (Linux), as the kernel knows it. Used by the emperor's
 * locks (emperor-lock.ts), whose names anyone can see in /proc/net/unix and bind once free.
 */

/** A process of ours (our uid), or of another user. */
export interface Holder {
  readonly pid: number | undefined;
  readonly uid: number | undefined;
  readonly ours: boolean;
}

/**
 * The holder of a lock name, as the kernel knows it: the listening socket's inode from /proc/net/unix, and the
 * process that has it open from /proc/PID/fd. The pid the holder answers with is only where to look first.
 */
export async function socketHolder(name: string): Promise<Holder | undefined> {
  const claimed = await askPid(name);
  if (claimed === 'refused') return undefined;
  const inode = await listeningInode(name);
  if (inode === undefined) return undefined;
  let pid: number | undefined;
  if (claimed !== undefined && (await holdsSocket(claimed, inode))) pid = claimed;
  else pid = await findHolder(inode);
  const uid = pid === undefined ? undefined : await uidOf(pid);
  // Where we cannot see the holder (not root; another user's process), it is not ours.
  return { pid, uid, ours: uid !== undefined && uid === (process.getuid?.() ?? 0) };
}

/** Connects to the name and reads the pid it answers with; 'refused' when nothing listens. */
function askPid(name: string, timeoutMs = 2000): Promise<number | undefined | 'refused'> {
  return new Promise((resolve) => {
    const conn = net.connect(name);
    let data = '';
    const done = (result: number | undefined | 'refused'): void => {
      clearTimeout(timer);
      conn.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      data += chunk;
      if (data.length > 32) done(undefined);
    });
    conn.on('end', () => {
      const pid = Number(data.trim());
      done(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    });
    conn.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'refused' : undefined));
  });
}

// /proc/net/unix flag of a listening socket (__SO_ACCEPTCON).
const ACCEPTCON = 0x10000;

/** The inode of the socket listening on abstract `name`, from /proc/net/unix (this network namespace). */
async function listeningInode(name: string): Promise<number | undefined> {
  // /proc/net/unix shows the leading NUL as '@', and the NULs Node pads the name with as '@' too.
  const shown = `@${name.slice(1)}`;
  for (const line of (await readFile('/proc/net/unix', 'utf8')).split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const where = fields.slice(7).join(' ').replace(/@+$/, '');
    if (where === shown && (parseInt(fields[3] ?? '0', 16) & ACCEPTCON) !== 0) return Number(fields[6]);
  }
  return undefined;
}

async function holdsSocket(pid: number, inode: number): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  const want = `socket:[${inode}]`;
  for (const fd of fds) {
    if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === want) return true;
  }
  return false;
}

/** Every process (that we may look into) for the one holding the socket. */
async function findHolder(inode: number): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (/^\d+$/.test(entry) && (await holdsSocket(Number(entry), inode))) return Number(entry);
  }
  return undefined;
}

async function uidOf(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    return real === undefined ? undefined : Number(real);
  } catch {
    return undefined;
  }
}
