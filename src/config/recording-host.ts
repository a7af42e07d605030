import { createHash } from 'node:crypto';
import { statSync, type BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ConfigHost } from './config-host.js';

/**
 * What a config looked at outside its own file, so that a change there can reload the vassals that read it:
 * - `read`: a file whose text it read (`ini =`, `@(file)`, `for-readline`, a `vassals-include` template);
 * - `kind`: a path it asked about (`if-exists`, `if-file`, `if-dir`, `for-glob` matches);
 * - `list`: a directory it listed (`for-glob`).
 */
export type ObservationKind = 'read' | 'kind' | 'list';

export interface Observation {
  readonly kind: ObservationKind;
  /** Absolute path. */
  readonly path: string;
  /** What the config saw there: a hash of the text or of the names, the path's kind, or why it failed. */
  readonly seen: string;
  /**
   * A cheap fingerprint of the path taken just before it was looked at (see stampOf): when it differs later, the
   * config is read again to see whether what it sees changed. `denied`: the reading user could not even stat it;
   * such a path is not followed (in tyrant mode the emperor must not watch for a tenant what the tenant cannot see).
   */
  readonly stamp: string;
}

/**
 * A stamp ending in this was taken less than RACY_MS after the path last changed: a second change within the same
 * timestamp tick could keep it, so it never counts as unchanged (as git's "racily clean" entries).
 */
export const RACY = '~';
const RACY_MS = 2000;

const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

function fingerprint(kind: ObservationKind, st: BigIntStats, nowMs: number): string {
  if (kind === 'kind') return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  const racy = nowMs - Number(st.ctimeNs / 1_000_000n) < RACY_MS ? RACY : '';
  // A directory's listing changes with its mtime; a file's content with its size, mtime and ctime (and inode).
  const content = kind === 'list' ? `${st.mtimeNs}` : `${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  return `${st.dev}:${st.ino}:${content}${racy}`;
}

function failedStamp(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : `error:${code ?? 'unknown'}`;
}

/** The stamp of `path` for an observation of `kind`, now, following links. Synchronous, as config reads are. */
export function stampOf(kind: ObservationKind, path: string): string {
  try {
    return fingerprint(kind, statSync(path, { bigint: true }), Date.now());
  } catch (err) {
    return failedStamp(err);
  }
}

/** The same, asynchronously, for the emperor's checks between reads. */
export async function currentStamp(kind: ObservationKind, path: string): Promise<string> {
  try {
    return fingerprint(kind, await stat(path, { bigint: true }), Date.now());
  } catch (err) {
    return failedStamp(err);
  }
}

/**
 * Wraps a host so that every file read, path asked about and directory listed is recorded (stamp first, then the
 * look, so a change in between shows as a changed stamp later, never as a missed change). The text of what was
 * read is not kept, only its hash.
 */
export function recordingHost(host: ConfigHost): { readonly host: ConfigHost; observations(): Observation[] } {
  const seen: Observation[] = [];
  const note = (kind: ObservationKind, path: string, stamp: string, result: string): void => {
    seen.push({ kind, path, stamp, seen: result });
  };
  const recording: ConfigHost = {
    ...host,
    readText(path) {
      const stamp = stampOf('read', path);
      const read = host.readText(path);
      note('read', path, stamp, read.ok ? hash(read.text) : `error:${read.reason}`);
      return read;
    },
    pathKind(path) {
      const stamp = stampOf('kind', path);
      const kind = host.pathKind(path);
      note('kind', path, stamp, kind);
      return kind;
    },
    listDir(path, limit) {
      const stamp = stampOf('list', path);
      const names = host.listDir(path, limit);
      note('list', path, stamp, names ? hash([...names].sort().join('\0')) : 'error');
      return names;
    },
  };
  return { host: recording, observations: () => [...seen] };
}
