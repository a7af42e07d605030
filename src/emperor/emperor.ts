import path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostic.js';
import { parseVassalText } from '../config/load-vassal.js';
import type { VassalConfig } from '../config/vassal-config.js';
import { removeRuntimeDir } from '../runtime/runtime-dir.js';
import { SocketRegistry } from '../socket/socket-registry.js';
import { Vassal } from '../vassal/vassal.js';
import { EMPEROR_MARKER, findOrphans, killOrphans } from './orphan-sweep.js';
import { TouchReloadWatch } from './touch-reload.js';
import { applyTyranny, fileOwner, ownerKey } from './tyrant.js';
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
  /** emperor-tyrant: each vassal runs as its file's owner. */
  readonly tyrant?: boolean;
  /** How many vassals a SIGHUP rolls at the same time. */
  readonly reloadConcurrency?: number;
  /**
   * Identifies this emperor's workers across restarts (exported as SUPERVISOR_EMPEROR): at start, processes left
   * with this marker by an earlier run that was killed are swept away before sockets are bound again.
   */
  readonly marker?: string;
}

interface Known {
  /** Content hash (and in tyrant mode, ownership) last acted on, loaded or not, so a touch never re-acts. */
  hash: string;
  /** The last config that loaded: what a SIGHUP or touch-reload rolls to. */
  config?: VassalConfig;
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
  /** Vassal files to reload even though their content did not change (touch-reload). */
  readonly #forced = new Set<string>();
  readonly #touchReload = new TouchReloadWatch((file) => {
    this.#log.info({ event: 'vassal.touched', vassal: path.basename(file) }, `touch-reload: reloading ${path.basename(file)}`);
    this.#forced.add(file);
    void this.sync();
  });
  /** Bounds how many vassals roll at once after a SIGHUP. */
  readonly #rolls: LimitFunction;
  readonly #baseEnv: Readonly<Record<string, string | undefined>>;

  constructor(options: EmperorOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#rolls = pLimit(options.reloadConcurrency ?? 4);
    this.#baseEnv = { ...(options.baseEnv ?? process.env), ...(options.marker ? { [EMPEROR_MARKER]: options.marker } : {}) };
  }

  /** Starts watching, then brings up every vassal already there. Resolves once that first sync is done. */
  async start(): Promise<void> {
    this.#log.info({ event: 'emperor.start', dirs: this.#options.dirs }, `emperor watching ${this.#options.dirs.join(', ')}`);
    if (this.#options.marker) await this.#sweepOrphans(this.#options.marker);
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
      this.#touchReload.remove(file);
      // Not awaited: a stop may take the whole mercy time, and the emperor must stay responsive meanwhile.
      this.#retire(known);
    }
    await Promise.all(work);
  }

  async #sweepOrphans(marker: string): Promise<void> {
    const orphans = await findOrphans(marker);
    if (orphans.length === 0) return;
    this.#log.warn(
      { event: 'emperor.orphans', orphans },
      `${orphans.length} process(es) left by an earlier run of this emperor: killing them before binding sockets again`,
    );
    await killOrphans(orphans);
  }

  async #reconcileFile(file: VassalFile, force: boolean): Promise<void> {
    const touched = this.#forced.delete(file.path);
    let owner;
    if (this.#options.tyrant) {
      owner = await fileOwner(file.path).catch(() => undefined);
      if (!owner) return; // Gone since the scan; the next sync sees it missing.
    }
    const key = owner ? `${file.hash}:${ownerKey(owner)}` : file.hash;
    const known = this.#known.get(file.path);
    if (known && known.hash === key && !force && !touched) return;
    const entry: Known = known ?? { hash: key };
    entry.hash = key;
    this.#known.set(file.path, entry);

    let result = parseVassalText(file.text, file.path);
    if (result.ok && owner) {
      const ruled = await applyTyranny(result.config, owner);
      result = ruled.ok ? { ...result, config: ruled.config } : { ok: false, diagnostics: [...result.diagnostics, ruled.diagnostic] };
    }
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
    entry.config = result.config;
    this.#touchReload.set(file.path, result.config.touchReload);
    if (entry.starting) await entry.starting;
    if (entry.vassal) {
      if (force && !touched) {
        // SIGHUP: every vassal rolls, a bounded number at a time; each takes the newest config when its turn comes.
        void this.#rolls(() => this.#update(entry, name, true).then(() => entry.vassal?.settled()));
      } else {
        await this.#update(entry, name, force || touched);
      }
      return;
    }
    entry.starting = Vassal.start(result.config, {
      registry: this.registry,
      log: this.#log.child({ vassal: name }),
      baseEnv: this.#baseEnv,
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

  async #update(entry: Known, name: string, force: boolean): Promise<void> {
    if (!entry.vassal || !entry.config || entry.vassal.stopped) return;
    try {
      await entry.vassal.update(entry.config, { force });
    } catch (err) {
      const message = (err as Error).message;
      this.#log.error({ event: 'vassal.reload-failed', vassal: name, err: message }, `vassal ${name}: reload failed: ${message}; the running version keeps serving`);
    }
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
      await this.#touchReload.close();
      await this.#syncing?.catch(() => {});
      this.#rolls.clearQueue();
      for (const known of this.#known.values()) this.#retire(known);
      this.#known.clear();
      while (this.#retiring.size > 0) await Promise.all(this.#retiring);
      const leaked = this.registry.names();
      if (leaked.length > 0) this.#log.error({ event: 'emperor.leak', sockets: leaked }, `sockets still open after stop: ${leaked.join(', ')}`);
      removeRuntimeDir();
      this.#log.info({ event: 'emperor.stopped' }, 'emperor stopped');
    })();
    return this.#stopping;
  }
}

function isUnder(file: string, paths: ReadonlyMap<string, string>): boolean {
  for (const p of paths.keys()) if (file === p || file.startsWith(p + path.sep)) return true;
  return false;
}
