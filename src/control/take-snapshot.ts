import { lstat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { EmperorFacts } from '../emperor/emperor-facts.js';
import { sampleProcesses } from './process-figures.js';
import { buildSnapshot, type Snapshot, type SocketFileSample } from './snapshot.js';

/** What a snapshot is taken of: the emperor (Emperor.snapshot), or anything that answers the same. */
export interface SnapshotSource {
  snapshot(): EmperorFacts;
}

/**
 * Takes a snapshot now: the emperor's facts, one pass over /proc for the figures of every worker's process group,
 * and an lstat of every unix socket file. Nothing is kept or sampled between calls.
 */
export async function takeSnapshot(source: SnapshotSource): Promise<Snapshot> {
  const facts = source.snapshot();
  const unixSockets = new Set(facts.files.flatMap((f) => (f.vassal?.sockets ?? []).filter((s) => s.kind === 'unix').map((s) => s.name)));
  const [processes, socketFiles] = await Promise.all([
    sampleProcesses(),
    Promise.all([...unixSockets].map(async (file): Promise<[string, SocketFileSample]> => {
      try {
        const st = await lstat(file);
        return [file, { mode: st.mode, uid: st.uid, gid: st.gid, isSocket: st.isSocket() }];
      } catch (err) {
        return [file, { error: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the socket file is missing' : (err as Error).message }];
      }
    })),
  ]);
  return buildSnapshot(facts, { now: Date.now(), pid: process.pid, version: packageVersion(), processes, socketFiles: new Map(socketFiles) });
}

let version: string | undefined;

/** This package's version (package.json). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
