import { opendirSync, readFileSync, statSync, type Dir } from 'node:fs';
import os from 'node:os';
import { readRegularFile } from './regular-file.js';

/** What a path names, as the `if-exists`/`if-file`/`if-dir` blocks ask. */
export type PathKind = 'file' | 'dir' | 'other' | 'missing';

/** Facts about the machine that magic variables expand to (uWSGI: %h %k %u %U %g %G %t %T). */
export interface HostFacts {
  readonly hostname: string;
  readonly cpus: number;
  readonly uid: number;
  readonly user: string;
  readonly gid: number;
  readonly group: string;
  /** Directory that relative paths given on the command line resolve against. */
  readonly cwd: string;
  /** When the supervisor started, in microseconds since the epoch (uWSGI: "gathered at instance startup"). */
  readonly startedAtMicros: number;
}

export type ReadResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

/**
 * Everything the config reader needs from outside: included files, `@(file)`, `for-readline`, `for-glob`, the
 * `if-*` tests, the environment and the machine's facts. Injected so that the reader stays pure and tests can give
 * it a fake file system; `systemHost()` is the real one. Every method answers, none throws.
 */
export interface ConfigHost {
  /**
   * A regular file's whole text, at most MAX_CONFIG_FILE_BYTES (counted as read). FIFOs, devices, sockets and
   * directories are refused by type without being opened for reading, so no read can block.
   */
  readText(path: string): ReadResult;
  pathKind(path: string): PathKind;
  /**
   * Names in a directory (in directory order), or undefined when it cannot be listed. With `limit`, stops after
   * `limit + 1` names, so that a caller can tell "more than limit" without a directory of millions being listed.
   */
  listDir(path: string, limit?: number): readonly string[] | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly facts: HostFacts;
}

/** Config files are small; anything bigger is a mistake (a log file named in `ini =`), not worth reading whole. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

function groupName(gid: number): string {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === gid) return name;
    }
  } catch {
    // No /etc/group: fall back to the number, as uWSGI's %G does.
  }
  return String(gid);
}

let facts: HostFacts | undefined;

/** The facts of this machine, gathered once per process like uWSGI's magic table. */
export function systemFacts(): HostFacts {
  if (facts) return facts;
  let info: { uid: number; gid: number; username: string };
  try {
    info = os.userInfo();
  } catch {
    // A uid with no passwd entry (common in containers): %U falls back to the number, as in uWSGI.
    const uid = process.getuid?.() ?? -1;
    info = { uid, gid: process.getgid?.() ?? -1, username: String(uid) };
  }
  facts = Object.freeze({
    hostname: os.hostname(),
    cpus: os.availableParallelism(),
    uid: info.uid,
    user: info.username,
    gid: info.gid,
    group: groupName(info.gid),
    cwd: process.cwd(),
    startedAtMicros: Math.round((performance.timeOrigin + performance.now()) * 1000),
  });
  return facts;
}

/** The real file system and environment. Reads are synchronous: config files are small and local. */
export function systemHost(env: Readonly<Record<string, string | undefined>> = process.env): ConfigHost {
  return {
    readText(path) {
      const read = readRegularFile(path, { limit: MAX_CONFIG_FILE_BYTES });
      return read.ok ? { ok: true, text: read.text } : { ok: false, reason: read.reason };
    },
    pathKind(path) {
      try {
        const st = statSync(path);
        return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
      } catch {
        return 'missing';
      }
    },
    listDir(path, limit = Infinity) {
      let dir: Dir | undefined;
      try {
        // opendir(3) opens with O_DIRECTORY: a FIFO or device is refused (ENOTDIR) without being opened.
        dir = opendirSync(path);
        const names: string[] = [];
        for (let entry = dir.readSync(); entry && names.length <= limit; entry = dir.readSync()) names.push(entry.name);
        return names;
      } catch {
        return undefined;
      } finally {
        try {
          dir?.closeSync();
        } catch {
          // Already closed.
        }
      }
    },
    env,
    facts: systemFacts(),
  };
}
