import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';

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
  readText(path: string): ReadResult;
  pathKind(path: string): PathKind;
  /** Names in a directory, or undefined when it cannot be listed. */
  listDir(path: string): readonly string[] | undefined;
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
      try {
        const size = statSync(path).size;
        if (size > MAX_CONFIG_FILE_BYTES) return { ok: false, reason: `${size} bytes is too big for a config file (limit ${MAX_CONFIG_FILE_BYTES})` };
        return { ok: true, text: readFileSync(path, 'utf8') };
      } catch (err) {
        return { ok: false, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message };
      }
    },
    pathKind(path) {
      try {
        const st = statSync(path);
        return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
      } catch {
        return 'missing';
      }
    },
    listDir(path) {
      try {
        return readdirSync(path);
      } catch {
        return undefined;
      }
    },
    env,
    facts: systemFacts(),
  };
}
