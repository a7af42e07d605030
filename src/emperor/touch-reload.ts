import { watch, type FSWatcher } from 'chokidar';
import { isDeepStrictEqual } from 'node:util';

/**
 * touch-reload (uWSGI's name): per vassal file, the other files whose change or touch reloads that vassal. A deploy
 * script touches one of them after updating the code; the vassal file itself did not change. One chokidar watcher
 * per vassal; a path that does not exist yet is watched for its creation.
 */
export class TouchReloadWatch {
  readonly #watchers = new Map<string, { paths: readonly string[]; watcher: FSWatcher }>();
  readonly #onTouch: (vassalFile: string, touched: string) => void;
  #closed = false;

  /** `onTouch(vassalFile, touched)`: `touched` is the path that changed. */
  constructor(onTouch: (vassalFile: string, touched: string) => void) {
    this.#onTouch = onTouch;
  }

  /** Watches `paths` for `vassalFile` (replacing what it watched before; nothing when empty). */
  set(vassalFile: string, paths: readonly string[]): void {
    if (this.#closed) return;
    const current = this.#watchers.get(vassalFile);
    if (current && isDeepStrictEqual(current.paths, paths)) return;
    this.remove(vassalFile);
    if (paths.length === 0) return;
    const watcher = watch([...paths], { ignoreInitial: true, atomic: false, depth: 0 });
    watcher.on('all', (_event, touched) => this.#onTouch(vassalFile, touched));
    watcher.on('error', () => {});
    this.#watchers.set(vassalFile, { paths, watcher });
  }

  remove(vassalFile: string): void {
    const current = this.#watchers.get(vassalFile);
    if (!current) return;
    this.#watchers.delete(vassalFile);
    void current.watcher.close();
  }

  /** Closes every watcher; later set() calls (a sync still finishing) watch nothing. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#watchers.values()];
    this.#watchers.clear();
    await Promise.all(all.map((w) => w.watcher.close()));
  }
}
