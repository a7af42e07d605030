import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface WatchHandlers {
  /** Something in a watched directory changed: the entry's path (or the directory's). Events are hints. */
  readonly onHint: (where: string) => void;
  /** Watching a directory failed (e.g. ENOSPC: inotify watch limit). The directory will be tried again. */
  readonly onError: (dir: string, err: NodeJS.ErrnoException) => void;
}

/**
 * Watches a set of directories (inotify, through chokidar), each on its own: only the directory, none of its
 * entries, since one directory watch reports every entry created, written, renamed or removed in it. The set is
 * reconciled with `watch(dirs)` after every scan, so directories that appear (a missing base, a symlink target's
 * directory, a ConfigMap's new timestamped directory) are added and vanished ones dropped.
 */
export class DirWatchSet {
  readonly #handlers: WatchHandlers;
  readonly #watchers = new Map<string, { watcher: FSWatcher; identity: string }>();
  #closed = false;

  constructor(handlers: WatchHandlers) {
    this.#handlers = handlers;
  }

  /**
   * Makes the watched set exactly `dirs` (path -> identity, `dev:ino`). A path whose identity changed (the directory
   * was swapped: `mv dir dir.old; mv dir.new dir`) is watched anew, since an inotify watch follows the old inode.
   * Resolves once new watches are in place (or have failed).
   */
  async watch(dirs: ReadonlyMap<string, string>): Promise<void> {
    if (this.#closed) return;
    const closing: Promise<void>[] = [];
    for (const [dir, { watcher, identity }] of this.#watchers) {
      if (dirs.get(dir) === identity) continue;
      this.#watchers.delete(dir);
      closing.push(watcher.close());
    }
    const opening: Promise<void>[] = [];
    for (const [dir, identity] of dirs) if (!this.#watchers.has(dir)) opening.push(this.#open(dir, identity));
    await Promise.all([...closing, ...opening]);
  }

  /** Stops every watch; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#watchers.values()];
    this.#watchers.clear();
    await Promise.all(all.map((w) => w.watcher.close()));
  }

  async #open(dir: string, identity: string): Promise<void> {
    const watcher = watch(dir, {
      ignoreInitial: true,
      depth: 0,
      // Only the directory itself: its watch reports all its entries, and per-file watches would cost one
      // inotify watch per vassal file for nothing.
      ignored: (p: string) => path.resolve(p) !== dir,
      // Content decides, so chokidar's pairing of unlink and re-add (and its 100 ms delay) is not needed.
      atomic: false,
    });
    const entry = { watcher, identity };
    this.#watchers.set(dir, entry);
    // Raw events come straight from inotify, before chokidar reads the directory to interpret them.
    watcher.on('raw', (_event, name) => this.#handlers.onHint(typeof name === 'string' && name ? path.join(dir, name) : dir));
    watcher.on('all', (_event, where) => this.#handlers.onHint(where));
    let failed = false;
    watcher.on('error', (err) => {
      failed = true;
      // Forget it, so that the next reconcile tries again (the limit may have been raised meanwhile).
      if (this.#watchers.get(dir) === entry) this.#watchers.delete(dir);
      void watcher.close();
      this.#handlers.onError(dir, err as NodeJS.ErrnoException);
    });
    await new Promise<void>((resolve) => {
      watcher.once('ready', () => resolve());
      watcher.once('error', () => resolve());
    });
    if (failed || this.#closed) void watcher.close();
  }
}
