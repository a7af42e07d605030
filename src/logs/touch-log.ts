import { watch, type FSWatcher } from 'chokidar';

/**
 * touch-logreopen / touch-logrotate (uWSGI's names): files whose change or touch reopens or rotates a log. Watched
 * with chokidar like touch-reload; a path that does not exist yet is watched for its creation.
 */
export class TouchLogWatch {
  #watcher: FSWatcher | undefined;
  #paths: readonly string[] = [];

  constructor(private readonly onTouch: () => void) {}

  /** Watches `paths` (replacing what was watched; nothing when empty). */
  set(paths: readonly string[]): void {
    if (paths.length === this.#paths.length && paths.every((p, i) => p === this.#paths[i])) return;
    this.close();
    this.#paths = paths;
    if (paths.length === 0) return;
    this.#watcher = watch([...paths], { ignoreInitial: true, atomic: false, depth: 0 });
    this.#watcher.on('all', () => this.onTouch());
    this.#watcher.on('error', () => {});
  }

  close(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    this.#paths = [];
    void watcher?.close();
  }
}
