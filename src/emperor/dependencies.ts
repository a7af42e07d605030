import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { currentStamp, RACY, type Observation } from '../config/recording-host.js';

/**
 * What a vassal's config read besides its own file (includes, `@(file)`, `for-readline` files, the
 * `vassals-include` templates, the listings and paths `for-glob` and `if-exists` looked at), as last read: a change
 * there reloads the vassal, as a change of its own file does.
 */
export interface Dependencies {
  /** Paths worth looking at again (one per kind and path); those the reading user could not even stat are not. */
  readonly followed: readonly Observation[];
  /** Identity of everything the config saw: equal iff it would see the same again. */
  readonly key: string;
}

export const NO_DEPENDENCIES: Dependencies = Object.freeze({ followed: [], key: '' });

/** Pure. */
export function dependenciesOf(observations: readonly Observation[]): Dependencies {
  if (observations.length === 0) return NO_DEPENDENCIES;
  const key = createHash('sha256')
    .update(JSON.stringify(observations.map((o) => [o.kind, o.path, o.seen])))
    .digest('hex');
  // A path asked about in a directory that was also listed (for-glob's matches) changes with the listing's stamp.
  const listed = new Set(observations.filter((o) => o.kind === 'list').map((o) => o.path));
  const byPath = new Map<string, Observation>();
  for (const o of observations) {
    if (o.stamp === 'denied' || (o.kind === 'kind' && listed.has(path.dirname(o.path)))) continue;
    byPath.set(`${o.kind}\0${o.path}`, o);
  }
  return Object.freeze({ followed: Object.freeze([...byPath.values()]), key });
}

/** Current stamps, shared by every vassal within one sync: a shared include is looked at once. */
export type StampCache = Map<string, Promise<string>>;

/**
 * A followed path whose stamp is no longer what it was when the config was read, or else one whose stamp was taken
 * too soon after a change to vouch for it (it may have changed within the same timestamp tick), or undefined. A
 * changed stamp only means "read the config again": what it then sees decides (Dependencies.key).
 */
export async function firstChange(deps: Dependencies, stamps: StampCache): Promise<string | undefined> {
  let racy: string | undefined;
  for (const o of deps.followed) {
    const key = `${o.kind}\0${o.path}`;
    let now = stamps.get(key);
    if (!now) {
      now = currentStamp(o.kind, o.path);
      stamps.set(key, now);
    }
    const stamp = await now;
    if (stamp.replace(RACY, '') !== o.stamp.replace(RACY, '')) return o.path;
    if (o.stamp.endsWith(RACY)) racy ??= o.path;
  }
  return racy;
}

/**
 * When the followed paths last changed, by their current stamps (ms since the epoch; 0 when none says): a file's
 * ctime, a listed directory's mtime. A change that recent may be half done (an include being written: truncated,
 * not yet filled), like a vassal file within the settle time. Uses and fills `stamps`, as firstChange does.
 */
export async function lastChangeMs(deps: Dependencies, stamps: StampCache): Promise<number> {
  let latest = 0;
  for (const o of deps.followed) {
    if (o.kind === 'kind') continue;
    const key = `${o.kind}\0${o.path}`;
    let now = stamps.get(key);
    if (!now) {
      now = currentStamp(o.kind, o.path);
      stamps.set(key, now);
    }
    // dev:ino:...:TIME_NS[~]; "missing", "denied" and errors end in no time.
    const time = /:(\d+)~?$/.exec(await now)?.[1];
    if (time !== undefined) latest = Math.max(latest, Number(BigInt(time) / 1_000_000n));
  }
  return latest;
}

/**
 * Adds to `into` the directories (path -> `dev:ino`) whose events may change what a config sees: the directory of
 * each followed path and of its real path (a symlinked include is edited where it lives), a listed directory
 * itself, and for a path that does not exist, its nearest existing ancestor (to see it appear).
 */
export async function addWatchDirs(deps: Dependencies, into: Map<string, string>, identities: Map<string, Promise<string | undefined>>): Promise<void> {
  const identity = (dir: string): Promise<string | undefined> => {
    let known = identities.get(dir);
    if (!known) {
      known = stat(dir).then(
        (st) => (st.isDirectory() ? `${st.dev}:${st.ino}` : undefined),
        () => undefined,
      );
      identities.set(dir, known);
    }
    return known;
  };
  const add = async (start: string): Promise<void> => {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const id = await identity(dir);
      if (id) {
        into.set(dir, id);
        return;
      }
      if (dir === path.dirname(dir)) return;
    }
  };
  for (const o of deps.followed) {
    await add(o.kind === 'list' ? o.path : path.dirname(o.path));
    if (o.kind === 'read') {
      const real = await realpath(o.path).catch(() => undefined);
      if (real && real !== o.path) await add(path.dirname(real));
    }
  }
}
