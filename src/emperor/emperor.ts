import path from 'node:path';
import type { Logger } from 'pino';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostic.js';
import { parseVassalText, type VassalDefaults } from '../config/load-vassal.js';
import { SocketRegistry } from '../socket/socket-registry.js';
import { Vassal } from '../vassal/vassal.js';
import { scanVassalFiles, type VassalFile } from './vassal-files.js';
import { watchVassalDirs, type DirWatcher } from './vassal-watcher.js';

export interface EmperorOptions {
  /** Directories of vassal files. */
  readonly dirs: readonly string[];
  readonly log: Logger;
  /** Environment the workers start from; the emperor's own by default. */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
  /** Quiet time after a file event before the directory is read (ms); coalesces editor save sequences. */
  readonly settleMs?: number;
  /** What every vassal file gets from the emperor's config: `vassals-include` templates, `vassal-set` options. */
  readonly vassalDefaults?: VassalDefaults;
}

interface Known {
  /** Content hash last acted on (whether it loaded or not), so a touch never re-acts. */
  hash: string;
  vassal?: Vassal;
  /** Vassal whose start is in flight; stop waits for it. */
  starting?: Promise<Vassal | undefined>;
}

/**
 * The emperor: keeps one vassal running per vassal file, as the directories say. Every file event, SIGHUP and
 * rescan ends in the same `sync`: read the directories, compare by content with what runs, start, reload or stop.
 */
export class Emperor {
  readonly registry = new SocketRegistry();
  readonly #options: EmperorOptions;
  readonly #log: Logger;
  readonly #known = new Map<string, Known>();
  #watcher: DirWatcher | undefined;
  #syncing: Promise<void> | undefined;
  #pending: { force: boolean } | undefined;
  #stopping: Promise<void> | undefined;
  /** Vassals being stopped. */
  readonly #retiring = new Set<Promise<void>>();

  constructor(options: EmperorOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  /** Starts watching, then brings up every vassal already there. Resolves once that first sync is done. */
  async start(): Promise<void> {
    this.#log.info({ event: 'emperor.start', dirs: this.#options.dirs }, `emperor watching ${this.#options.dirs.join(', ')}`);
    this.#watcher = await watchVassalDirs(this.#options.dirs, {
      settleMs: this.#options.settleMs ?? 30,
      onChange: () => void this.sync(),
      onError: (err) => this.#log.error({ event: 'emperor.watch-error', err: err.message }, `watching failed: ${err.message}`),
    });
    await this.sync();
  }

  /**
   * Reconciles running vassals with the files. `force` reloads every vassal even if its file is unchanged (SIGHUP).
   * Calls that arrive during a sync are merged into one more sync after it.
   */
  sync(options: { force?: boolean } = {}): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#syncing) {
      this.#pending = { force: (this.#pending?.force ?? false) || (options.force ?? false) };
      return this.#syncing;
    }
    this.#syncing = (async () => {
      let next: { force: boolean } | undefined = { force: options.force ?? false };
      while (next && !this.#stopping) {
        this.#pending = undefined;
        await this.#syncOnce(next.force);
        next = this.#pending;
      }
    })().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #syncOnce(force: boolean): Promise<void> {
    const scan = await scanVassalFiles(this.#options.dirs);
    for (const dir of scan.missingDirs) {
      this.#log.warn({ event: 'emperor.dir-missing', dir }, `vassal directory ${dir} does not exist`);
    }
    for (const [where, message] of scan.unreadable) {
      this.#log.error({ event: 'emperor.unreadable', path: where }, `cannot read ${where}: ${message}; its vassals keep running as they are`);
    }
    for (const file of scan.dangling) {
      this.#log.error({ event: 'vassal.dangling', file }, `${file} is a symlink to nothing`);
    }

    const work: Promise<unknown>[] = [];
    // Starts and reloads before stops: when a vassal file is renamed, the new vassal takes over the sockets
    // the old one shares with it before the old one lets go of them.
    for (const file of scan.files.values()) work.push(this.#reconcileFile(file, force));
    for (const [file, known] of this.#known) {
      if (scan.files.has(file) || isUnder(file, scan.unreadable)) continue;
      this.#known.delete(file);
      // Not awaited: a stop may take the whole mercy time, and the emperor must stay responsive meanwhile.
      this.#retire(known);
    }
    await Promise.all(work);
  }

  async #reconcileFile(file: VassalFile, force: boolean): Promise<void> {
    const known = this.#known.get(file.path);
    if (known && known.hash === file.hash && !force) return;
    const entry: Known = known ?? { hash: file.hash };
    entry.hash = file.hash;
    this.#known.set(file.path, entry);

    const result = parseVassalText(file.text, file.path, { defaults: this.#options.vassalDefaults });
    this.#report(result.diagnostics);
    const name = path.basename(file.path);
    if (!result.ok) {
      const running = entry.vassal && !entry.vassal.stopped;
      this.#log.error(
        { event: 'vassal.config-error', vassal: name, file: file.path },
        running ? `vassal ${name}: config has errors; the running version is left untouched` : `vassal ${name}: config has errors; not started`,
      );
      return;
    }
    if (entry.starting) await entry.starting;
    if (entry.vassal) {
      try {
        await entry.vassal.update(result.config, { force });
      } catch (err) {
        this.#log.error({ event: 'vassal.reload-failed', vassal: name, err: (err as Error).message }, `vassal ${name}: reload failed: ${(err as Error).message}; the running version keeps serving`);
      }
      return;
    }
    entry.starting = Vassal.start(result.config, {
      registry: this.registry,
      log: this.#log.child({ vassal: name }),
      baseEnv: this.#options.baseEnv ?? process.env,
    }).then(
      (vassal) => {
        entry.vassal = vassal;
        return vassal;
      },
      (err: Error) => {
        this.#log.error({ event: 'vassal.start-failed', vassal: name, err: err.message }, `vassal ${name}: cannot start: ${err.message}`);
        // Forget the hash so that the next event or rescan tries again (e.g. once the port is free).
        if (this.#known.get(file.path) === entry) entry.hash = '';
        return undefined;
      },
    );
    await entry.starting;
    entry.starting = undefined;
  }

  #retire(known: Known): void {
    const stopping = (async () => {
      const vassal = known.vassal ?? (await known.starting);
      await vassal?.stop();
    })();
    this.#retiring.add(stopping);
    void stopping.finally(() => this.#retiring.delete(stopping));
  }

  #report(diagnostics: readonly Diagnostic[]): void {
    for (const d of diagnostics) {
      const level = d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warn' : 'info';
      this.#log[level]({ event: 'config.diagnostic', severity: d.severity, file: d.file, line: d.line, key: d.key }, formatDiagnostic(d));
    }
  }

  /** Every running vassal, for status and tests. */
  vassals(): Vassal[] {
    return [...this.#known.values()].flatMap((k) => (k.vassal && !k.vassal.stopped ? [k.vassal] : []));
  }

  /** Stops watching, then stops every vassal gracefully and releases every socket. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#log.info({ event: 'emperor.stop' }, 'emperor stopping');
      await this.#watcher?.close();
      await this.#syncing?.catch(() => {});
      for (const known of this.#known.values()) this.#retire(known);
      this.#known.clear();
      while (this.#retiring.size > 0) await Promise.all(this.#retiring);
      const leaked = this.registry.names();
      if (leaked.length > 0) this.#log.error({ event: 'emperor.leak', sockets: leaked }, `sockets still open after stop: ${leaked.join(', ')}`);
      this.#log.info({ event: 'emperor.stopped' }, 'emperor stopped');
    })();
    return this.#stopping;
  }
}

function isUnder(file: string, paths: ReadonlyMap<string, string>): boolean {
  for (const p of paths.keys()) if (file === p || file.startsWith(p + path.sep)) return true;
  return false;
}
