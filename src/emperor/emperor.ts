import type { StartPriority } from '../worker/start-priority.js';
import { statfsSync } from 'node:fs';
import path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import { formatDiagnostic } from '../config/diagnostic.js';
import { systemHost } from '../config/config-host.js';
import { parseVassalText, type VassalDefaults } from '../config/load-vassal.js';
import { recordingHost, type Observation } from '../config/recording-host.js';
import type { VassalConfig, VassalConfigResult } from '../config/vassal-config.js';
import { logDiagnostics } from '../runtime/logger.js';
import { removeRuntimeDir } from '../runtime/runtime-dir.js';
import { passedVariables } from '../runtime/tenant-env.js';
import { closeBindHelpers } from '../socket/bind.js';
import { SocketRegistry } from '../socket/socket-registry.js';
import { delayFor, type BackoffPolicy } from '../vassal/backoff.js';
import { Vassal } from '../vassal/vassal.js';
import { addWatchDirs, dependenciesOf, firstChange, lastChangeMs, type Dependencies, type StampCache } from './dependencies.js';
import { isSettling } from './file-stamp.js';
import type { ConfigErrorFacts, EmperorFacts, VassalFileFacts } from './emperor-facts.js';
import { EMPEROR_MARKER } from './orphan-sweep.js';
import { TouchReloadWatch } from './touch-reload.js';
import { ownerKey, readTenantVassal } from './tyrant.js';
import { SettleTimer } from './settle-timer.js';
import { nextRescanMs, remoteFilesystem, rescanPolicy, type RescanPolicy } from './rescan-schedule.js';
import { isEmptyPlan, planSync, type SyncPlan } from './sync-plan.js';
import { VassalScanner, type Scan, type VassalFile } from './vassal-files.js';
import { sourceWarning, vassalSource, type VassalSource } from './vassal-source.js';
import { DirWatchSet } from './vassal-watcher.js';
import { lostEventsAdvice, readInotifyLimits, watchAdvice } from './watch-advice.js';

export interface EmperorOptions {
  /** Where vassal files are: directories or globs (`/etc/vassals/*.ini`), absolute. */
  readonly dirs: readonly string[];
  readonly log: Logger;
  /**
   * Environment the workers start from; by default a copy of the emperor's own, taken when the Emperor is made. In
   * tyrant mode only tyrantPassEnv of it.
   */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
  /** tyrant-pass-env: names of baseEnv variables that tenants' workers get (systemd's PassEnvironment=). */
  readonly tyrantPassEnv?: readonly string[];
  /** Quiet time after a file event before the directory is read (ms); coalesces editor save sequences. */
  readonly settleMs?: number;
  /** What every vassal file gets from the emperor's config: `vassals-include` templates, `vassal-set` options. */
  readonly vassalDefaults?: VassalDefaults;
  /** emperor-tyrant: each vassal runs as its file's owner, and its config is read with the owner's rights. */
  readonly tyrant?: boolean;
  /** tyrant-privileged-ports: tenants may bind TCP ports below 1024. */
  readonly tyrantPrivilegedPorts?: boolean;
  /** How many vassals a SIGHUP rolls at the same time. */
  readonly reloadConcurrency?: number;
  /** emperor-on-touch: `reload` (default) a vassal whose file was touched (same inode and content, newer mtime), or `ignore`. */
  readonly onTouch?: 'reload' | 'ignore';
  /**
   * This emperor run's id, exported to every worker as SUPERVISOR_EMPEROR: a later run of the same emperor finds
   * what this one left behind by it (orphan-sweep.ts, run by the cli before start).
   */
  readonly marker?: string;
  /** Interval of the safety-net rescan (ms); 0 disables it. */
  readonly rescanMs?: number;
  /** True when emperor-freq was written: the rescan keeps that interval instead of backing off (rescan-schedule.ts). */
  readonly rescanFixed?: boolean;
  /** File name endings of vassal files; `.ini` by default. */
  readonly extensions?: readonly string[];
  /** nice-until-ready: lowers the priority of workers started in a storm until they are ready; none by default. */
  readonly startPriority?: StartPriority;
}

/** Why a sync runs: for logs, and to tell a change that no event announced. */
type SyncTrigger = 'start' | 'event' | 'rescan' | 'signal' | 'control';

/** What was last reported about the files, so that each problem is logged when it appears, not at every rescan. */
interface Reported {
  readonly missing: ReadonlySet<string>;
  readonly unreadable: ReadonlySet<string>;
  readonly dangling: ReadonlySet<string>;
}

interface Known {
  /** Content hash (and in tyrant mode, ownership) last acted on, loaded or not, so a touch never re-acts. */
  hash: string;
  /** The last config that loaded: what a SIGHUP or touch-reload rolls to. */
  config?: VassalConfig;
  vassal?: Vassal;
  /** Vassal whose start is in flight; stop waits for it. */
  starting?: Promise<Vassal | undefined>;
  /**
   * Starts of this content that failed in a row (a port in use, an unknown user, a config error caused outside
   * the file such as a missing include), and when to try again.
   */
  startFailures?: { count: number; retryAt: number };
  /** The findings of the last read of this content, so a retry that finds the same ones does not log them again. */
  findings?: string;
  /** Tyrant mode: `uid:gid` of the owner the running vassal belongs to (its workers and its sockets). */
  account?: string;
  /** The file as last seen (its inode and mtime), to tell a touch from a replacement. */
  seen?: { inode: string; mtimeNs: bigint };
  /** What its config read besides the file, at the last read: a change there reloads it too. */
  deps?: Dependencies;
  /** For the status snapshot: the file's hash as last read, the one last given to the vassal, what went wrong. */
  fileHash?: string;
  appliedHash?: string;
  configError?: ConfigErrorFacts;
  startError?: { at: number; message: string };
  /** A bounded roll of this vassal (SIGHUP, a shared include), queued or running: reload() waits for it. */
  rolling?: Promise<unknown>;
}

/**
 * What a sync asks of one vassal file, and why (logged with every decision). `if-changed`: act if its content
 * changed (a scale when only `processes` did); `now`: roll now, content changed or not (a touch, touch-reload);
 * `bounded`: roll, at most emperor-reload-concurrency vassals at a time (SIGHUP); `dependency`: something its config
 * read changed on disk: read it again, and roll (bounded) if what it sees changed.
 */
interface Decision {
  readonly roll: 'if-changed' | 'now' | 'bounded' | 'dependency';
  readonly reason: string;
}

// A vassal that cannot start is retried after 1 s, 2 s, 4 s ... up to a minute, or at once when its file changes:
// the same exponential backoff as a worker's crash loop, counted from the second attempt.
const START_RETRY: BackoffPolicy = { initialMs: 1000, maxMs: 60_000, healthyAfterMs: 0 };

/**
 * The emperor: keeps one vassal running per vassal file, as the directories say. Every file event, SIGHUP and
 * rescan ends in the same `sync`: read the directories, compare by content with what runs, start, reload or stop.
 */
export class Emperor {
  readonly registry: SocketRegistry;
  readonly startedAt = Date.now();
  readonly #options: EmperorOptions;
  readonly #log: Logger;
  readonly #known = new Map<string, Known>();
  readonly #sources: readonly VassalSource[];
  readonly #settleMs: number;
  /** The vassal defaults a tenant's file is read with: the emperor's, without its default account (never a tenant's). */
  readonly #tenantDefaults: VassalDefaults | undefined;
  readonly #scanner = new VassalScanner();
  readonly #watchSet: DirWatchSet;
  readonly #settle: SettleTimer;
  #rescanTimer: NodeJS.Timeout | undefined;
  #rescanPolicy: RescanPolicy;
  /** The interval the next rescan comes after (ms). */
  #rescanMs: number;
  /** What the rescan should not back off after: file events, changes no event reported, watch failures. */
  #activitySinceRescan = 0;
  /** When the pending rescan comes (ms, wall clock). */
  #rescanDueAt = 0;
  /** File events seen since the current sync began its scan: a rescan that finds work while none came saw a lost event. */
  #hintsSinceScan = 0;
  /** Error codes of watch failures already explained, so the advice is logged once, not at every retry. */
  readonly #watchErrors = new Set<string>();
  #reported: Reported = { missing: new Set(), unreadable: new Set(), dangling: new Set() };
  #syncing: Promise<void> | undefined;
  #pending: { force: boolean; trigger: SyncTrigger } | undefined;
  #stopping: Promise<void> | undefined;
  /** Vassals being stopped. */
  readonly #retiring = new Set<Promise<void>>();
  /** Vassals being stopped whose file is gone (for the status snapshot). */
  readonly #retiringVassals = new Set<Vassal>();
  #lastSync: { at: number; trigger: string } | undefined;
  /** Vassal files to reload even though their content did not change, with why (touch-reload, touched). */
  readonly #forced = new Map<string, string>();
  readonly #touchReload = new TouchReloadWatch((file, touched) => {
    this.#log.info({ event: 'vassal.touched', vassal: path.basename(file), path: touched }, `touch-reload: ${touched} changed, reloading ${path.basename(file)}`);
    this.#forced.set(file, `touch-reload ${touched} changed`);
    void this.sync();
  });
  /** Bounds how many vassals roll at once after a SIGHUP. */
  readonly #rolls: LimitFunction;
  readonly #baseEnv: Readonly<Record<string, string | undefined>>;
  readonly #fixedEnv: Readonly<Record<string, string>>;
  /** tyrant-pass-env: the emperor's variables that tenants get, in their workers and in their `$(VAR)`. */
  readonly #passed: Readonly<Record<string, string>>;
  /** The directories the last scan walked (the watched set is these plus the dependencies' directories). */
  #scanDirs: ReadonlyMap<string, string> = new Map();
  /** Kills tyrant-mode config readers still running when the emperor stops. */
  readonly #readers = new AbortController();
  /** Tyrant mode: the last reconcile asked for, per vassal file, that the sync did not wait for. */
  readonly #detached = new Map<string, Promise<void>>();
  /** The same reconciles by owner (`uid:gid`), for a stop to wait on those that may take over its sockets. */
  readonly #detachedByOwner = new Map<string, Set<Promise<void>>>();

  constructor(options: EmperorOptions) {
    this.#options = options;
    this.#log = options.log;
    this.registry = new SocketRegistry({ tyrant: options.tyrant, tyrantPrivilegedPorts: options.tyrantPrivilegedPorts });
    // rejectOnClear: the rolls a stop clears from the queue settle (rejected), so nothing waits on them for ever.
    this.#rolls = pLimit({ concurrency: options.reloadConcurrency ?? 4, rejectOnClear: true });
    // A plain copy, read once: every read of process.env goes through libuv's getenv. Copied from process.env for each
    // worker, its launch plan took 0.5-0.7 ms of the emperor's start storm, 0.49 ms of it that copy; from a plain
    // object, 0.1 ms (bench/PROFILE.md). The emperor changes its own environment only to drop LISTEN_*, which no
    // worker is given anyway (launch-plan.ts).
    this.#baseEnv = options.baseEnv ?? { ...process.env };
    this.#fixedEnv = options.marker ? { [EMPEROR_MARKER]: options.marker } : {};
    this.#passed = passedVariables(options.tyrantPassEnv ?? [], this.#baseEnv);
    const extensions = options.extensions?.length ? options.extensions : ['.ini'];
    this.#sources = options.dirs.map((spec) => vassalSource(spec, extensions));
    for (const spec of options.dirs) {
      const warning = sourceWarning(spec, extensions);
      if (warning) this.#log.warn({ event: 'emperor.pattern-warning', pattern: spec }, warning);
    }
    // One object for every tenant read: files whose reads wait together share a reader only with the same options.
    this.#tenantDefaults = options.vassalDefaults && { ...options.vassalDefaults, account: undefined };
    this.#settleMs = options.settleMs ?? 50;
    this.#settle = new SettleTimer(this.#settleMs, () => void this.sync({ trigger: 'event' }));
    const baseMs = options.rescanMs ?? 3000;
    this.#rescanPolicy = rescanPolicy(baseMs, options.rescanFixed ?? false);
    this.#rescanMs = baseMs;
    this.#watchSet = new DirWatchSet({
      onHint: (where) => {
        this.#hintsSinceScan++;
        this.#activitySinceRescan++;
        this.#rescanAtBase();
        // An event naming a vassal file (one renamed in, most often) gets a look at once (SettleTimer).
        this.#settle.hint(Date.now(), this.#sources.some((source) => source.matches(where)));
      },
      onError: (dir, err) => this.#watchFailed(dir, err),
    });
  }

  /**
   * Starts watching, then brings up every vassal already there. Resolves once the start-up syncs are done and, in
   * tyrant mode, the tenants' first reads have ended; when the emperor is stopped meanwhile, once that stop is done.
   */
  async start(): Promise<void> {
    this.#log.info({ event: 'emperor.start', dirs: this.#options.dirs, run: this.#options.marker }, `emperor watching ${this.#options.dirs.join(', ')}`);
    await this.sync({ trigger: 'start' });
    // The first scan listed the directories before their watches existed: a file that arrived in between made no
    // event. One more look (unchanged files are not read again) sees it now, not at the next rescan (or never, with
    // emperor-freq = 0).
    await this.sync({ trigger: 'start' });
    // Tyrant mode reads tenants' configs apart from the sync: start-up is complete once those have started too (each
    // reader has its own time limit), so that a daemon says "up" only when every vassal present had its chance.
    await Promise.allSettled([...this.#detached.values()]);
    const remote = this.#rescanPolicy.maxMs > this.#rescanPolicy.baseMs ? this.#remoteSource() : undefined;
    if (remote) {
      this.#rescanPolicy = { ...this.#rescanPolicy, maxMs: this.#rescanPolicy.baseMs };
      this.#log.info(
        { event: 'emperor.rescan-fixed', dir: remote.dir, filesystem: remote.type },
        `${remote.dir} is on ${remote.type}, where changes made elsewhere make no file event: the rescan stays every ${this.#rescanPolicy.baseMs / 1000} s (emperor-freq)`,
      );
    }
    if (this.#rescanPolicy.baseMs > 0 && !this.#stopping) this.#scheduleRescan(this.#rescanPolicy.baseMs);
  }

  /** The next safety-net rescan, `ms` from now; each one schedules the next (rescan-schedule.ts). */
  #scheduleRescan(ms: number): void {
    this.#rescanMs = ms;
    this.#rescanDueAt = Date.now() + ms;
    this.#rescanTimer = setTimeout(() => {
      this.#rescanTimer = undefined;
      const next = (): void => {
        if (this.#stopping) return;
        const quiet = this.#activitySinceRescan === 0;
        this.#activitySinceRescan = 0;
        this.#scheduleRescan(nextRescanMs(ms, this.#rescanPolicy, quiet));
      };
      // Whatever the sync did, the chain goes on: a rescan that failed must not be the last one.
      void this.sync({ trigger: 'rescan' }).then(next, next);
    }, ms);
  }

  /**
   * Activity: a rescan backed off far into the future comes at the base interval from now instead, so that what the
   * activity's events may have missed is looked for as soon as at a fixed emperor-freq.
   */
  #rescanAtBase(): void {
    const base = this.#rescanPolicy.baseMs;
    if (!this.#rescanTimer || this.#stopping || this.#rescanDueAt <= Date.now() + base) return;
    clearTimeout(this.#rescanTimer);
    this.#scheduleRescan(base);
  }

  /** A source directory (or, when missing, its nearest existing ancestor) on a filesystem whose remote changes make no event. */
  #remoteSource(): { dir: string; type: string } | undefined {
    for (const source of this.#sources) {
      // The first of the base and its ancestors that exists says where the vassal files are (or will be).
      for (let dir = source.base; ; dir = path.dirname(dir)) {
        const type = filesystemType(dir);
        if (type !== undefined) {
          const remote = remoteFilesystem(type);
          if (remote) return { dir, type: remote };
          break;
        }
        if (dir === path.dirname(dir)) break;
      }
    }
    return undefined;
  }

  /**
   * Reconciles running vassals with the files. `force` reloads every vassal even if its file is unchanged (SIGHUP).
   * Calls that arrive during a sync are merged into one more sync after it.
   */
  sync(options: { force?: boolean; trigger?: SyncTrigger } = {}): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const trigger = options.trigger ?? (options.force ? 'signal' : 'event');
    if (this.#syncing) {
      // A merged rescan stays a rescan only if nothing else asked: only then is a change it finds unannounced.
      const merged = this.#pending && this.#pending.trigger !== trigger ? 'event' : trigger;
      this.#pending = { force: (this.#pending?.force ?? false) || (options.force ?? false), trigger: merged };
      return this.#syncing;
    }
    this.#syncing = (async () => {
      let next: { force: boolean; trigger: SyncTrigger } | undefined = { force: options.force ?? false, trigger };
      while (next && !this.#stopping) {
        this.#pending = undefined;
        try {
          await this.#syncOnce(next.force, next.trigger);
          this.#lastSync = { at: Date.now(), trigger: next.trigger };
        } catch (err) {
          // The daemon never dies of what it finds on disk; the next event or rescan tries again.
          this.#log.error({ event: 'emperor.sync-failed', err: (err as Error).message }, `reading the vassal files failed: ${(err as Error).message}`);
        }
        next = this.#pending;
      }
    })().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #syncOnce(force: boolean, trigger: SyncTrigger): Promise<void> {
    const startedAt = Date.now();
    this.#hintsSinceScan = 0;
    const scan = await this.#scanner.scan(this.#sources, this.#settleMs);
    // Watch what this scan walked, and the directories of what the configs read, before acting: a change made from
    // here on is an event.
    this.#scanDirs = scan.watchDirs;
    await this.#watchSet.watch(await this.#withDependencyDirs(scan.watchDirs));
    this.#reportScan(scan);

    const actual = new Map([...this.#known].map(([file, known]) => [file, known.hash]));
    const identities = new Map([...scan.files].map(([f, v]) => [f, this.#identity(v)]));
    // Held: vassals whose file (or a directory above it) is in the middle of a change, and new files still being written.
    const held = new Set([...actual.keys(), ...scan.settling.keys()].filter((file) => settledAt(file, scan) > 0));
    const planned = planSync({ files: identities, held, keep: (f) => isUnder(f, scan.unreadable) }, actual, force);
    this.#noteTouches(scan, held);
    // Why each one is acted on: every decision is logged with its reason.
    const why = new Map<string, Decision>();
    for (const f of planned.start) why.set(f, { roll: 'if-changed', reason: 'new vassal file' });
    for (const f of planned.reload) {
      why.set(f, actual.get(f) !== identities.get(f) ? { roll: 'if-changed', reason: 'its file changed' } : { roll: 'bounded', reason: 'reload of every vassal' });
    }
    // touch-reload or a touch asked for these, or their start failed and is due again; their content may well be
    // unchanged. One still settling waits its turn.
    const now = Date.now();
    for (const [f, k] of this.#known) if (k.startFailures && k.startFailures.retryAt <= now && !why.has(f)) why.set(f, { roll: 'if-changed', reason: 'retry' });
    for (const [f, reason] of this.#forced) if (!why.has(f) || why.get(f)?.roll === 'if-changed') why.set(f, { roll: 'now', reason });
    for (const [f, changed] of await this.#changedDependencies(scan, held)) if (!why.has(f)) why.set(f, { roll: 'dependency', reason: `${changed} changed` });
    const extra = [...why.keys()].filter((f) => scan.files.has(f) && this.#known.has(f) && !held.has(f) && !planned.reload.includes(f) && !planned.start.includes(f));
    const plan: SyncPlan = { ...planned, reload: [...new Set([...planned.reload, ...extra])] };
    const nextRetry = Math.min(...[...this.#known.values()].flatMap((k) => (k.startFailures ? [k.startFailures.retryAt] : [])));
    if (Number.isFinite(nextRetry) && nextRetry > now) this.#settle.wakeAt(nextRetry);

    const work: Promise<unknown>[] = [];
    // Starts and reloads before stops: when a vassal file is renamed, the new vassal takes over the sockets
    // the old one shares with it before the old one lets go of them.
    for (const file of [...plan.start, ...plan.reload]) {
      const vassalFile = scan.files.get(file) as VassalFile;
      if (this.#options.tyrant) {
        this.#reconcileDetached(vassalFile, why.get(file) as Decision);
      } else {
        work.push(this.#reconcileFile(vassalFile, why.get(file) as Decision));
      }
    }
    const retiring: Known[] = [];
    for (const file of plan.stop) {
      const known = this.#known.get(file);
      if (!known) continue;
      this.#known.delete(file);
      this.#forced.delete(file);
      this.#touchReload.remove(file);
      retiring.push(known);
    }
    // Something still settling (a file being written, a directory being swapped): look again once it has.
    if (held.size > 0) this.#settle.wakeAt(Math.max(...[...held].map((f) => settledAt(f, scan))) + 1);
    if (!isEmptyPlan(plan) || held.size > 0) this.#logSync(trigger, plan, planned, held, startedAt, why);
    // Stops begin once the starts have their sockets (a start looks up its uid first, which takes a few ms), so a
    // renamed vassal's successor always finds them still held. Not awaited: a stop may take the whole mercy time.
    // In tyrant mode the sync does not wait for a tenant's reconciles; a stop waits (not the sync) for those of the
    // same owner still running, this sync's or an earlier one's (the successor of a renamed file starts at once, its
    // predecessor stops once the directory has settled), the only ones that may take over its sockets.
    try {
      await Promise.all(work);
    } finally {
      for (const known of retiring) this.#retire(known, Promise.allSettled(known.account ? [...(this.#detachedByOwner.get(known.account) ?? [])] : []));
    }
  }

  /**
   * Tyrant mode: a tenant's config is read by a reader process the tenant may stall (SIGSTOP) until its time limit,
   * so the sync does not wait for it: no tenant holds up the others' files. Reconciles of one file still run one
   * after the other, in the order the syncs asked for them.
   */
  #reconcileDetached(file: VassalFile, decision: Decision): Promise<void> {
    const previous = this.#detached.get(file.path) ?? Promise.resolve();
    const next = previous.then(() => (this.#stopping ? undefined : this.#reconcileFile(file, decision))).catch((err: Error) => {
      this.#log.error({ event: 'emperor.internal-error', err: err.stack ?? err.message }, `internal error, kept running: ${err.message}`);
    });
    this.#detached.set(file.path, next);
    const owner = accountOf(file.owner);
    const ofOwner = this.#detachedByOwner.get(owner) ?? new Set();
    this.#detachedByOwner.set(owner, ofOwner.add(next));
    void next.finally(() => {
      if (this.#detached.get(file.path) === next) this.#detached.delete(file.path);
      ofOwner.delete(next);
      if (ofOwner.size === 0 && this.#detachedByOwner.get(owner) === ofOwner) this.#detachedByOwner.delete(owner);
    });
    return next;
  }

  #logSync(trigger: SyncTrigger, plan: SyncPlan, planned: SyncPlan, held: ReadonlySet<string>, startedAt: number, why: ReadonlyMap<string, Decision>): void {
    const reasons = Object.fromEntries([...plan.start, ...plan.reload].map((f) => [f, why.get(f)?.reason]));
    // A changed dependency is a reason to read the config again, not yet to reload: what it then sees decides.
    const check = plan.reload.filter((f) => why.get(f)?.roll === 'dependency');
    const reload = plan.reload.filter((f) => !check.includes(f));
    const fields = { event: 'emperor.sync', trigger, ...plan, reload, check, reasons, settling: [...held], durationMs: Date.now() - startedAt };
    const checking = check.length > 0 ? `, ${check.length} to read again (something their config read changed)` : '';
    this.#log.info(
      fields,
      `${trigger}: ${plan.start.length} to start, ${reload.length} to reload, ${plan.stop.length} to stop${checking}, ${held.size} still settling`,
    );
    // A rescan that finds vassal files changed while no file event came since it began: events were lost (or never
    // sent). What it adds on its own (retries, changed includes found by their stamps) does not count.
    if (trigger === 'rescan' && !isEmptyPlan(planned) && this.#hintsSinceScan === 0 && !this.#settle.pending) {
      const files = [...planned.start, ...planned.reload, ...planned.stop];
      this.#activitySinceRescan++;
      this.#log.warn({ event: 'emperor.missed-events', files }, `the rescan found ${files.length} change(s) no file event reported: ${lostEventsAdvice(readInotifyLimits())}`);
    }
  }

  /** Logs what is wrong on disk when it becomes wrong, and when it is right again. */
  #reportScan(scan: Scan): void {
    const now: Reported = { missing: new Set(scan.missing), unreadable: new Set(scan.unreadable.keys()), dangling: scan.dangling };
    for (const spec of now.missing) {
      if (!this.#reported.missing.has(spec)) this.#log.warn({ event: 'emperor.dir-missing', dir: spec }, `vassal directory of ${spec} does not exist; waiting for it to appear`);
    }
    for (const spec of this.#reported.missing) {
      if (!now.missing.has(spec)) this.#log.info({ event: 'emperor.dir-found', dir: spec }, `vassal directory of ${spec} is there`);
    }
    for (const [where, message] of scan.unreadable) {
      if (!this.#reported.unreadable.has(where)) this.#log.error({ event: 'emperor.unreadable', path: where }, `cannot read ${where}: ${message}; its vassals keep running as they are`);
    }
    for (const file of now.dangling) {
      if (!this.#reported.dangling.has(file)) this.#log.error({ event: 'vassal.dangling', file, vassal: path.basename(file) }, `${file} is a symlink to nothing; its vassal stops`);
    }
    this.#reported = now;
  }

  #watchFailed(dir: string, err: NodeJS.ErrnoException): void {
    const code = err.code ?? 'unknown';
    // Events may not come from there: the rescan is the way changes are seen, at emperor-freq from now on.
    this.#rescanPolicy = { ...this.#rescanPolicy, maxMs: this.#rescanPolicy.baseMs };
    this.#activitySinceRescan++;
    this.#rescanAtBase();
    if (this.#watchErrors.has(code)) return;
    this.#watchErrors.add(code);
    const advice = watchAdvice(err.code, readInotifyLimits(), this.#rescanPolicy.baseMs / 1000);
    this.#log.error(
      { event: 'emperor.watch-error', dir, code, err: err.message },
      `cannot watch ${dir}: ${err.message}${advice ? `; ${advice}` : '; changes are picked up by the rescan until watching works again'}`,
    );
  }

  /**
   * A touch (uWSGI's way to ask for a reload): the same file (same inode), the same content, and an mtime that moved
   * forward since it was last seen. A file replaced by another with the same content (an editor's save, a deploy
   * tool's rename, a ConfigMap swap) is another inode, and is not a touch. With emperor-on-touch = ignore, only
   * content decides.
   */
  #noteTouches(scan: Scan, held: ReadonlySet<string>): void {
    for (const [file, vassalFile] of scan.files) {
      const known = this.#known.get(file);
      if (!known || held.has(file)) continue;
      const seen = known.seen;
      known.seen = { inode: vassalFile.inode, mtimeNs: vassalFile.mtimeNs };
      if (this.#options.onTouch === 'ignore' || !seen || seen.inode !== vassalFile.inode || vassalFile.mtimeNs <= seen.mtimeNs) continue;
      if (known.hash !== this.#identity(vassalFile)) continue; // A change of content is a reload of its own.
      this.#forced.set(file, 'its file was touched');
    }
  }

  /**
   * Vassal files (settled, acted on before) some of whose dependencies changed on disk since their config was read,
   * with the first such path. A shared include is looked at once per sync.
   */
  async #changedDependencies(scan: Scan, held: ReadonlySet<string>): Promise<Map<string, string>> {
    const stamps: StampCache = new Map();
    const changed = new Map<string, string>();
    await Promise.all(
      [...this.#known].map(async ([file, known]) => {
        if (!known.deps || known.deps.followed.length === 0 || held.has(file) || !scan.files.has(file)) return;
        const path = await firstChange(known.deps, stamps);
        if (path === undefined) return;
        // Nothing half-done is acted on: an include changed within the settle time (a rescan between its truncation
        // and its write) is looked at again once it has settled, as a vassal file is.
        const changedAt = await lastChangeMs(known.deps, stamps);
        if (isSettling(changedAt, Date.now(), this.#settleMs)) {
          this.#settle.wakeAt(changedAt + this.#settleMs + 1);
          return;
        }
        changed.set(file, path);
      }),
    );
    return changed;
  }

  /** `dirs` plus the directories where what the vassals' configs read lives (see addWatchDirs). */
  async #withDependencyDirs(dirs: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    const all = new Map(dirs);
    const identities = new Map<string, Promise<string | undefined>>();
    await Promise.all([...this.#known.values()].map((k) => (k.deps ? addWatchDirs(k.deps, all, identities) : undefined)));
    return all;
  }

  /** What must change for a vassal to be reloaded: its content, and in tyrant mode also who owns its file. */
  #identity(file: VassalFile): string {
    return this.#options.tyrant ? `${file.hash}:${ownerKey(file.owner)}` : file.hash;
  }

  async #reconcileFile(file: VassalFile, decision: Decision): Promise<void> {
    this.#forced.delete(file.path);
    const owner = this.#options.tyrant ? file.owner : undefined;
    const key = this.#identity(file);
    const known = this.#known.get(file.path);
    const sameFile = known?.hash === key;
    const retryDue = known?.startFailures !== undefined && known.startFailures.retryAt <= Date.now();
    if (known && known.hash === key && decision.roll === 'if-changed' && !retryDue) return;
    const entry: Known = known ?? { hash: key, seen: { inode: file.inode, mtimeNs: file.mtimeNs } };
    if (entry.hash !== key) entry.startFailures = undefined;
    entry.hash = key;
    entry.fileHash = file.hash;
    this.#known.set(file.path, entry);

    const name = path.basename(file.path);
    let result: VassalConfigResult;
    let observations: readonly Observation[];
    if (owner) {
      // Tyrant mode: read with the owner's rights and environment, in a reader process; the tyrant rules after.
      // The emperor's default uid/gid never apply to a tenant: the file's owner decides.
      const read = await readTenantVassal(file, { defaults: this.#tenantDefaults, passed: this.#passed, signal: this.#readers.signal });
      result = read.result;
      observations = read.observations;
      if (read.reader) {
        const { pid, wallMs, queuedMs, files } = read.reader;
        const fields = { event: 'vassal.read-as-owner', vassal: name, uid: owner.uid, gid: owner.gid, pid, files, wallMs: Math.round(wallMs), queuedMs: Math.round(queuedMs) };
        this.#log.info(fields, `vassal ${name}: config read as uid ${owner.uid} in ${fields.wallMs} ms${files > 1 ? ` (one reader for ${files} files)` : ''}`);
      }
      // Stopping meanwhile (its reader was killed): nothing to report, nothing to start.
      if (this.#stopping) return;
    } else {
      const recorder = recordingHost(systemHost());
      result = parseVassalText(file.text, file.path, { defaults: this.#options.vassalDefaults, host: recorder.host });
      observations = recorder.observations();
    }
    const before = entry.deps;
    entry.deps = dependenciesOf(observations);
    // Watch where the new dependencies live now, not at the next sync: an edit from here on is an event.
    if (before?.key !== entry.deps.key && entry.deps.followed.length > 0) await this.#watchSet.watch(await this.#withDependencyDirs(this.#scanDirs));
    if (decision.roll === 'dependency' && sameFile && before?.key === entry.deps.key) {
      // A file it read was touched or rewritten with the same text: what the config sees did not change.
      this.#log.info(
        { event: 'vassal.unchanged', vassal: name, reason: decision.reason },
        `vassal ${name}: ${decision.reason} on disk, but not what its config reads: nothing to do`,
      );
      return;
    }
    // A retry that finds what the last read found says nothing new: log only what changed.
    const findings = result.diagnostics.map(formatDiagnostic).join('\n');
    const repeated = retryDue && entry.findings === findings;
    entry.findings = findings;
    if (!repeated) logDiagnostics(this.#log, result.diagnostics);
    if (!result.ok) {
      const running = entry.vassal && !entry.vassal.stopped;
      // A missing include or unset variable may be there in a moment: retried like a failed start.
      const external = result.diagnostics.some((d) => d.severity === 'error' && d.external);
      // Only its own text is wrong: nothing to retry until the file changes.
      if (!external) entry.startFailures = undefined;
      const retryInMs = external ? this.#retryLater(entry) : undefined;
      const errors = result.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ file: d.file, line: d.line, message: d.message }));
      entry.configError = { at: Date.now(), errors, retryAt: entry.startFailures?.retryAt };
      if (repeated) return;
      const outcome = running ? 'the running version is left untouched' : 'not started';
      const retry = retryInMs === undefined ? '' : `; its cause is outside the file: retrying in ${retryInMs / 1000} s (or when the file changes)`;
      this.#log.error({ event: 'vassal.config-error', vassal: name, file: file.path, retryInMs }, `vassal ${name}: config has errors; ${outcome}${retry}`);
      return;
    }
    entry.config = result.config;
    entry.configError = undefined;
    entry.appliedHash = file.hash;
    this.#touchReload.set(file.path, result.config.touchReload);
    if (entry.starting) await entry.starting;
    const account = owner ? accountOf(owner) : undefined;
    if (entry.vassal && entry.account !== account) {
      // A chown gave the file to another tenant: the old owner's workers and sockets are not the new owner's to
      // take over (a roll would be refused its own sockets), so the old vassal stops before the new one starts.
      this.#log.info(
        { event: 'vassal.owner-changed', vassal: name, from: entry.account, to: account },
        `vassal ${name}: its file now belongs to ${account}, not ${entry.account}: stopping it to start it as the new owner`,
      );
      const previous = entry.vassal;
      entry.vassal = undefined;
      await previous.stop().catch((err: Error) => this.#log.error({ event: 'vassal.stop-failed', vassal: name, err: err.message }, `stopping ${name} failed: ${err.message}`));
      if (this.#stopping) return;
    }
    if (entry.vassal) {
      entry.startFailures = undefined;
      if (decision.roll === 'bounded' || decision.roll === 'dependency') {
        // SIGHUP, a shared include: every vassal concerned rolls, a bounded number at a time; each takes the newest
        // config when its turn comes.
        // Never rejects: #update reports its own failures, and a roll the stop cleared from the queue is no failure.
        entry.rolling = this.#rolls(() => this.#update(entry, name, decision).then(() => entry.vassal?.settled())).catch(() => undefined);
      } else {
        await this.#update(entry, name, decision);
      }
      return;
    }
    entry.starting = Vassal.start(result.config, {
      registry: this.registry,
      log: this.#log.child({ vassal: name }),
      baseEnv: this.#baseEnv,
      tenantEnv: owner ? this.#passed : undefined,
      fixedEnv: this.#fixedEnv,
      tyrant: this.#options.tyrant ?? false,
      startPriority: this.#options.startPriority,
    }).then(
      (vassal) => {
        entry.vassal = vassal;
        entry.account = account;
        entry.startFailures = undefined;
        entry.startError = undefined;
        return vassal;
      },
      (err: Error) => {
        const delayMs = this.#retryLater(entry);
        const count = entry.startFailures?.count;
        entry.startError = { at: Date.now(), message: err.message };
        this.#log.error(
          { event: 'vassal.start-failed', vassal: name, err: err.message, failures: count, retryInMs: delayMs },
          `vassal ${name}: cannot start: ${err.message}; retrying in ${delayMs / 1000} s (or when the file changes)`,
        );
        return undefined;
      },
    );
    await entry.starting;
    entry.starting = undefined;
  }

  /** Counts one more failure of this content and schedules its next try (START_RETRY backoff); returns the delay (ms). */
  #retryLater(entry: Known): number {
    const count = (entry.startFailures?.count ?? 0) + 1;
    const delayMs = delayFor(count + 1, START_RETRY);
    entry.startFailures = { count, retryAt: Date.now() + delayMs };
    this.#settle.wakeAt(entry.startFailures.retryAt);
    return delayMs;
  }

  async #update(entry: Known, name: string, decision: Decision): Promise<void> {
    if (!entry.vassal || !entry.config || entry.vassal.stopped) return;
    try {
      // A changed file or dependency scales when only `processes` changed; a touch or SIGHUP always rolls.
      const force = decision.roll === 'now' || decision.roll === 'bounded';
      await entry.vassal.update(entry.config, { force, reason: decision.reason });
    } catch (err) {
      const message = (err as Error).message;
      this.#log.error({ event: 'vassal.reload-failed', vassal: name, err: message }, `vassal ${name}: reload failed: ${message}; the running version keeps serving`);
    }
  }

  /** Stops a vassal in the background (after `after`), tracked so that the emperor's stop waits for it. */
  #retire(known: Known, after?: Promise<unknown>): void {
    const stopping = (async () => {
      await after;
      const vassal = known.vassal ?? (await known.starting);
      if (!vassal) return;
      this.#retiringVassals.add(vassal);
      await vassal.stop().finally(() => this.#retiringVassals.delete(vassal));
    })().catch((err: Error) => {
      this.#log.error({ event: 'vassal.stop-failed', err: err.message }, `stopping a vassal failed: ${err.message}`);
    });
    this.#retiring.add(stopping);
    void stopping.finally(() => this.#retiring.delete(stopping));
  }

  /** Reopens every vassal's log file by its path (SIGUSR2, `supervisor --reopen-logs`); resolves when all are done. */
  async reopenLogs(): Promise<void> {
    await Promise.all([...this.#known.values()].map((known) => known.vassal?.reopenLogs()));
  }

  /** What the emperor knows now, as plain data (for the status snapshot). Read-only; samples nothing. */
  snapshot(): EmperorFacts {
    const files: VassalFileFacts[] = [...this.#known].map(([file, k]) => ({
      file,
      name: path.basename(file),
      hash: k.fileHash,
      appliedHash: k.appliedHash,
      configError: k.configError,
      startError: k.startError && k.startFailures && { ...k.startError, failures: k.startFailures.count, retryAt: k.startFailures.retryAt },
      starting: k.starting !== undefined,
      retiring: false,
      account: k.account,
      vassal: k.vassal?.snapshot(),
    }));
    for (const vassal of this.#retiringVassals) {
      const facts = vassal.snapshot();
      files.push({ file: facts.file, name: facts.name, starting: false, retiring: true, vassal: facts });
    }
    return {
      startedAt: this.startedAt,
      sources: this.#options.dirs,
      tyrant: this.#options.tyrant ?? false,
      settling: this.#settle.pending,
      syncing: this.#syncing !== undefined,
      lastSync: this.#lastSync,
      rescanMs: this.#rescanPolicy.baseMs > 0 ? this.#rescanMs : 0,
      rescanMaxMs: this.#rescanPolicy.maxMs,
      stopping: this.#stopping !== undefined,
      files,
    };
  }

  /** The running vassal of a vassal file (its full path), if any. */
  vassalAt(file: string): Vassal | undefined {
    const vassal = this.#known.get(file)?.vassal;
    return vassal && !vassal.stopped ? vassal : undefined;
  }

  /**
   * Reloads one vassal file (its full path), as touch-reload does, or every vassal, as SIGHUP does: the files are
   * read again and each vassal rolls to a new generation. Resolves once the rolls it started are done or failed
   * (Vassal.settled); with `wait` false, once the files are read and the rolls started or queued. `onStarted` is
   * called at that point either way. What happened is then in snapshot(). A file that is not (or no longer) a vassal
   * file is left.
   */
  async reload(file?: string, options: { readonly wait?: boolean; readonly trigger?: 'signal' | 'control'; readonly onStarted?: () => void } = {}): Promise<void> {
    const trigger = options.trigger ?? 'control';
    if (file !== undefined) this.#forced.set(file, trigger === 'control' ? 'reload asked on the control socket' : 'reload asked');
    await this.sync({ force: file === undefined, trigger });
    // Tyrant mode: the sync does not wait for tenants' reconciles.
    await Promise.all(file === undefined ? this.#detached.values() : [this.#detached.get(file)]);
    options.onStarted?.();
    if (options.wait === false) return;
    const entries = file === undefined ? [...this.#known.values()] : [this.#known.get(file)].filter((k) => k !== undefined);
    await Promise.all(entries.map(async (k) => {
      await k.rolling;
      await k.vassal?.settled();
    }));
  }

  /** Stops watching, then stops every vassal gracefully and releases every socket. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#log.info({ event: 'emperor.stop' }, 'emperor stopping');
      await this.#touchReload.close();
      this.#readers.abort();
      clearTimeout(this.#rescanTimer);
      this.#settle.close();
      await this.#watchSet.close();
      await this.#syncing?.catch(() => {});
      while (this.#detached.size > 0) await Promise.all(this.#detached.values());
      this.#rolls.clearQueue();
      for (const known of this.#known.values()) this.#retire(known);
      this.#known.clear();
      while (this.#retiring.size > 0) await Promise.all(this.#retiring);
      const leaked = this.registry.names();
      if (leaked.length > 0) this.#log.error({ event: 'emperor.leak', sockets: leaked }, `sockets still open after stop: ${leaked.join(', ')}`);
      removeRuntimeDir();
      closeBindHelpers();
      this.#log.info({ event: 'emperor.stopped' }, 'emperor stopped');
    })();
    return this.#stopping;
  }
}

/** A tenant's account as `Known.account` and the stops' wait for the same owner's reconciles key it: `uid:gid`. */
function accountOf(owner: { readonly uid: number; readonly gid: number }): string {
  return `${owner.uid}:${owner.gid}`;
}

/**
 * When a vassal path will have settled (ms); 0 if it is not settling. A file found complete has settled whatever
 * its directory does; an absent one waits for every directory above it (it may be back in a moment).
 */
function settledAt(file: string, scan: Scan): number {
  let at = scan.settling.get(file) ?? 0;
  if (scan.files.has(file)) return at;
  for (let p = path.dirname(file); ; p = path.dirname(p)) {
    at = Math.max(at, scan.settlingDirs.get(p) ?? 0);
    if (p === path.dirname(p)) return at;
  }
}

/** statfs(2) f_type of the filesystem `dir` is on; undefined when it cannot be read (missing, not allowed). */
function filesystemType(dir: string): number | undefined {
  try {
    return statfsSync(dir).type;
  } catch {
    return undefined;
  }
}

function isUnder(file: string, paths: ReadonlyMap<string, string>): boolean {
  for (const p of paths.keys()) if (file === p || file.startsWith(p + path.sep)) return true;
  return false;
}
