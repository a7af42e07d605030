import { watch } from 'chokidar';

export interface DirWatcher {
  /** Stops watching; idempotent. */
  close(): Promise<void>;
}

export interface WatchOptions {
  /** Quiet time (ms) after the last event before onChange fires; a burst of events fires once. */
  readonly settleMs: number;
  /** Called when something in a watched directory changed. Events are hints: the caller rescans. */
  readonly onChange: () => void;
  readonly onError: (err: Error) => void;
}

/**
 * Watches vassal directories (inotify, through chokidar) and calls onChange once per burst of events. Which file
 * changed and how does not matter here: the emperor reads the directory and decides by content, so an editor's
 * write-temp-then-rename, a chunked copy or a swapped symlink all end as one look at the final state.
 */
export async function watchVassalDirs(dirs: readonly string[], options: WatchOptions): Promise<DirWatcher> {
  const watcher = watch([...dirs], {
    ignoreInitial: true,
    depth: 0,
    // chokidar's atomic-save handling delays unlink events by 100 ms to pair them with a re-add; we do not need
    // the pairing (content decides), so we do not pay the delay.
    atomic: false,
  });
  let timer: NodeJS.Timeout | undefined;
  let firstEventAt = 0;
  const fire = (): void => {
    timer = undefined;
    options.onChange();
  };
  watcher.on('all', () => {
    const now = Date.now();
    if (!timer) firstEventAt = now;
    clearTimeout(timer);
    // A steady stream of events (a storm) must not postpone the sync forever: fire after 10 quiet periods at most.
    const wait = Math.max(0, Math.min(options.settleMs, firstEventAt + options.settleMs * 10 - now));
    timer = setTimeout(fire, wait);
  });
  watcher.on('error', (err) => options.onError(err as Error));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  let closing: Promise<void> | undefined;
  return {
    close() {
      clearTimeout(timer);
      closing ??= watcher.close();
      return closing;
    },
  };
}
