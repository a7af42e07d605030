/** What one reconcile found on disk, reduced to what the decision needs. */
export interface DesiredState {
  /** Vassal files found, path -> content hash. */
  readonly files: ReadonlyMap<string, string>;
  /**
   * Paths not to act on now: files still settling (just written), and absent or dangling paths whose directory
   * changed a moment ago (an editor between renaming the old file away and writing the new one).
   */
  readonly held: ReadonlySet<string>;
  /** Absent paths whose vassals keep running anyway: unreadable files, or files in an unreadable directory. */
  readonly keep: (file: string) => boolean;
}

/** What the emperor knows it acted on: path -> content hash last acted on. */
export type ActualState = ReadonlyMap<string, string>;

export interface SyncPlan {
  readonly start: readonly string[];
  readonly reload: readonly string[];
  readonly stop: readonly string[];
}

/**
 * Compares the files with what runs. Pure. A file whose content hash equals the one acted on needs nothing (touch,
 * `cp -p` of the same content), unless `force` (SIGHUP). The caller starts and reloads before it stops: a renamed
 * file's new vassal takes the shared sockets over before the old one lets go.
 */
export function planSync(desired: DesiredState, actual: ActualState, force = false): SyncPlan {
  const start: string[] = [];
  const reload: string[] = [];
  const stop: string[] = [];
  for (const [file, hash] of desired.files) {
    if (desired.held.has(file)) continue;
    const acted = actual.get(file);
    if (acted === undefined) start.push(file);
    else if (acted !== hash || force) reload.push(file);
  }
  for (const file of actual.keys()) {
    if (desired.files.has(file) || desired.held.has(file) || desired.keep(file)) continue;
    stop.push(file);
  }
  return { start, reload, stop };
}

export function isEmptyPlan(plan: SyncPlan): boolean {
  return plan.start.length + plan.reload.length + plan.stop.length === 0;
}
