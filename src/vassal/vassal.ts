import type { Logger } from 'pino';
import type { SocketSpec, VassalConfig } from '../config/vassal-config.js';
import type { SocketLease, SocketRegistry } from '../socket/socket-registry.js';
import { describeExit, Worker, type WorkerExit } from '../worker/worker.js';
import { StopFifo } from '../worker/stop-fifo.js';
import type { StartPriority } from '../worker/start-priority.js';
import { resolveCredentials, type Credentials } from '../runtime/accounts.js';
import { tenantEnvironment } from '../runtime/tenant-env.js';
import { VassalOutput, type VassalOutputView } from '../logs/vassal-output.js';
import { afterUnexpectedExit, HEALTHY, type SlotHealth } from './backoff.js';
import { planGroup, type Action, type GroupView, type WorkerPhase } from './group-plan.js';
import { reloadKind } from './reload-kind.js';
import type { ExitRecord, ReloadFacts, VassalFacts } from './vassal-facts.js';

export interface VassalDeps {
  readonly registry: SocketRegistry;
  readonly log: Logger;
  /** The environment workers start from (default mode: the emperor's own). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /**
   * Tyrant mode: the workers start from the tenant's minimal environment (tenant-env.ts) plus these variables of
   * the emperor's (tyrant-pass-env), not from baseEnv.
   */
  readonly tenantEnv?: Readonly<Record<string, string>>;
  /** Variables the supervisor sets last, over the vassal's env lines (the run's marker). */
  readonly fixedEnv?: Readonly<Record<string, string>>;
  /** Tyrant mode: the vassal's log file is opened with its owner's rights, whatever the options say. */
  readonly tyrant?: boolean;
  /** nice-until-ready: shared by every vassal of the emperor, which counts their starting workers. */
  readonly startPriority?: StartPriority;
}

interface Generation {
  readonly number: number;
  /** Replaced in place when only `processes` changes (a scale is not a new generation). */
  config: VassalConfig;
  readonly lease: SocketLease;
  readonly credentials: Credentials | undefined;
}

interface WorkerRecord {
  readonly key: number;
  readonly slot: number;
  readonly generation: number;
  readonly worker: Worker;
  phase: WorkerPhase;
  readyAt?: number;
  /** Why we stopped it; undefined while it runs on its own. */
  stopReason?: string;
  /** Recycling asked for a successor (max-worker-lifetime, reload-on-rss). */
  retire?: boolean;
  /** It was a successor that failed to start; already reported. */
  successorFailed?: boolean;
  /** Its replacement (recycling, a restart asked for) failed, and why: it keeps serving. */
  replacementFailed?: string;
  lifetimeTimer?: NodeJS.Timeout;
  /** stop-fifo: the FIFO it is stopped through. */
  stopFifo?: StopFifo;
}

interface SlotRecord {
  health: SlotHealth;
  retryAt: number;
  lastGeneration?: number;
  /** Workers that exited on their own and were started again. */
  restarts?: number;
  lastExit?: ExitRecord & { readonly key: number };
}

/**
 * A uWSGI app's unix sockets without chown-socket belong to the user it runs as: uWSGI drops privileges before it
 * binds, so that is whose they always were (and nginx running as that user can connect, as the guides expect).
 */
function socketsToLease(config: VassalConfig, credentials: Credentials | undefined): readonly SocketSpec[] {
  if (!config.uwsgiApp || !credentials) return config.sockets;
  const owner = { user: String(credentials.uid), group: String(credentials.gid) };
  return config.sockets.map((s) => (s.address.kind === 'unix' && !s.owner ? { ...s, owner } : s));
}
/** How a restart asked for (restartWorker) ended. */
export type RestartOutcome = { readonly ok: true; readonly replaced: readonly number[]; readonly pid: number | undefined } | { readonly ok: false; readonly error: string };

// How often reload-on-rss measures workers; uWSGI checks after each request, which a generic supervisor cannot see.
const RSS_CHECK_MS = 2000;

/**
 * One worker group: its desired config (by generation), its workers, and its sockets. Every event (worker ready or
 * exited, new config, backoff elapsed) ends in the same reconcile: plan from a snapshot (group-plan.ts), then act.
 */
export class Vassal {
  readonly name: string;
  readonly startedAt = Date.now();
  readonly #deps: VassalDeps;
  readonly #log: Logger;
  readonly #generations = new Map<number, Generation>();
  readonly #workers = new Map<number, WorkerRecord>();
  readonly #slots = new Map<number, SlotRecord>();
  #target: Generation;
  #rollBlocked = false;
  #rollStartedAt: number | undefined;
  #nextKey = 1;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #stopping: Promise<void> | undefined;
  /** Config changes are applied one at a time: each may need to bind sockets first. */
  #queue: Promise<unknown> = Promise.resolve();
  #settleWaiters: (() => void)[] = [];
  #rssTimer: NodeJS.Timeout | undefined;
  /** Where the workers' output goes (logto, or the emperor's log), and its last lines. */
  readonly #output: VassalOutput;
  #reloads = 0;
  #reloadFailures = 0;
  #lastReload: ReloadFacts | undefined;
  /** Checked after every reconcile and at stop: each resolves its caller once its condition holds. */
  readonly #watchers = new Set<() => void>();

  private constructor(first: Generation, deps: VassalDeps, output: VassalOutput) {
    this.name = first.config.name;
    this.#deps = deps;
    this.#log = deps.log;
    this.#output = output;
    this.#target = first;
    this.#generations.set(first.number, first);
  }

  /**
   * A socket systemd passed keeps the permissions its unit gave it: a chmod-socket/chown-socket asked for on it is
   * not applied, and the log says so (it would otherwise look applied).
   */
  #noteInherited(config: VassalConfig): void {
    const ignored = config.sockets.filter((s) => (s.mode !== undefined || s.owner !== undefined) && this.#deps.registry.isInherited(s));
    if (ignored.length === 0) return;
    const names = ignored.map((s) => s.name);
    this.#log.warn(
      { event: 'vassal.socket-permissions-ignored', sockets: names },
      `vassal ${this.name}: ${names.join(', ')} came from systemd (LISTEN_FDS): chmod-socket/chown-socket not applied; its unit's SocketMode=, SocketUser= and SocketGroup= decide`,
    );
  }

  /** Binds the vassal's sockets and starts its workers. Rejects (with nothing left running) if a socket cannot be bound. */
  static async start(config: VassalConfig, deps: VassalDeps): Promise<Vassal> {
    const credentials = await resolveCredentials(config.uid, config.gid);
    const lease = await deps.registry.lease(socketsToLease(config, credentials), credentials);
    const output = new VassalOutput({ vassal: config.name, log: deps.log, tyrant: deps.tyrant ?? false });
    // A uWSGI app stamps its own lines: no default date on tagged lines (an explicit log-date still adds one).
    await output.configure(config.log, credentials, { reload: false, uwsgiApp: config.uwsgiApp !== undefined });
    const vassal = new Vassal({ number: 1, config, lease, credentials }, deps, output);
    vassal.#noteInherited(config);
    vassal.#rollStartedAt = Date.now();
    vassal.#log.info(
      { event: 'vassal.start', processes: config.processes, sockets: config.sockets.map((s) => s.name) },
      `vassal ${config.name} starting ${config.processes} worker(s)`,
    );
    vassal.#reconcile();
    vassal.#watchRss();
    return vassal;
  }

  get stopped(): boolean {
    return this.#stopping !== undefined;
  }

  /** The workers' output: last lines and followers (for `--logs`). */
  get output(): VassalOutputView {
    return this.#output;
  }

  /** Reopens the vassal's log file by its path (SIGUSR2, `supervisor --reopen-logs`). */
  reopenLogs(): Promise<void> {
    return this.#output.reopen();
  }

  /**
   * Applies a new config: scales when only `processes` changed, otherwise starts a rolling reload to a new
   * generation (also when `force` is set with the same config, as SIGHUP does). Rejects, leaving the running
   * generation untouched, if the new config's sockets cannot be bound.
   */
  update(config: VassalConfig, options: { force?: boolean; reason?: string } = {}): Promise<void> {
    const next = this.#queue.then(() => this.#apply(config, options.force ?? false, options.reason ?? (options.force ? 'reload requested' : 'new config')));
    this.#queue = next.catch((err: Error) => {
      if (this.#stopping) return;
      // Its sockets could not be bound (or its user not found): no new generation, the running one keeps serving.
      this.#reloadFailures++;
      const at = Date.now();
      this.#lastReload = { generation: this.#target.number + 1, result: 'failed', startedAt: at, endedAt: at, error: err.message };
    });
    return next;
  }

  async #apply(config: VassalConfig, force: boolean, reason: string): Promise<void> {
    if (this.#stopping) return;
    const kind = reloadKind(this.#target.config, config, force);
    if (kind === 'scale') {
      this.#log.info(
        { event: 'vassal.scale', from: this.#target.config.processes, to: config.processes, reason },
        `vassal ${this.name} scaling from ${this.#target.config.processes} to ${config.processes} worker(s) (${reason}; only processes changed)`,
      );
      this.#target.config = config;
      this.#reconcile();
      return;
    }
    const credentials = await resolveCredentials(config.uid, config.gid);
    const lease = await this.#deps.registry.lease(socketsToLease(config, credentials), credentials);
    if (this.#stopping) {
      lease.release({ vacuum: false });
      return;
    }
    await this.#output.configure(config.log, credentials, { reload: true, uwsgiApp: config.uwsgiApp !== undefined });
    this.#noteInherited(config);
    const generation: Generation = { number: this.#target.number + 1, config, lease, credentials };
    this.#generations.set(generation.number, generation);
    this.#target = generation;
    this.#rollBlocked = false;
    this.#rollStartedAt = Date.now();
    this.#reloads++;
    this.#lastReload = { generation: generation.number, result: 'rolling', startedAt: this.#rollStartedAt };
    // A new generation is a fresh chance: slots waiting out a crash-loop backoff start at once.
    for (const slot of this.#slots.values()) {
      slot.retryAt = 0;
      slot.health = HEALTHY;
    }
    // A change that means the same (a comment, an option moved) rolls too: the file changed, as uWSGI reloads then.
    const detail = kind === 'none' ? `${reason}; same options as it runs` : reason;
    const { stopFirst } = config;
    this.#log.info(
      { event: 'vassal.reload', generation: generation.number, reason: detail, ...(stopFirst ? { stopFirst } : {}) },
      stopFirst
        ? `vassal ${this.name} reloading to generation ${generation.number}, old worker first (${detail}): ${stopFirst}`
        : `vassal ${this.name} rolling to generation ${generation.number} (${detail})`,
    );
    this.#reconcile();
    this.#releaseUnusedGenerations();
    this.#watchRss();
  }

  /**
   * Resolves once no rolling reload is in progress: the last one completed, was blocked by a failure, or the vassal
   * stopped. The emperor uses it to bound how many vassals roll at once.
   */
  settled(): Promise<void> {
    if (this.#isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.#settleWaiters.push(resolve));
  }

  #isSettled(): boolean {
    if (this.#rollStartedAt === undefined || this.#rollBlocked || this.#stopping !== undefined) return true;
    // A roll that cannot progress also counts: nothing is starting and some slot waits out a crash-loop backoff.
    const now = Date.now();
    const starting = [...this.#workers.values()].some((w) => w.phase === 'starting');
    return !starting && [...this.#slots.values()].some((s) => s.retryAt > now);
  }

  #notifySettled(): void {
    if (!this.#isSettled()) return;
    const waiters = this.#settleWaiters;
    this.#settleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Stops every worker (signal, mercy, SIGKILL, to each process group) and releases the sockets. Idempotent. */
  stop(): Promise<void> {
    // Set before the stop begins, so that the stop itself already sees it: its wake-up of settled()'s waiters (a
    // roll in progress counts as settled once the vassal stops) must find the vassal stopping, or they wait for ever.
    this.#stopping ??= Promise.resolve().then(() => this.#stopAll());
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    this.#log.info({ event: 'vassal.stop' }, `vassal ${this.name} stopping`);
    clearTimeout(this.#timer);
    clearInterval(this.#rssTimer);
    this.#notifySettled();
    this.#notifyWatchers();
    await this.#queue;
    const exits = await Promise.allSettled([...this.#workers.values()].map((r) => this.#stopWorker(r, 'vassal-stop')));
    for (const exit of exits) {
      if (exit.status === 'rejected') this.#log.error({ event: 'worker.stop-failed', err: String(exit.reason) }, `stopping a worker of ${this.name} failed: ${String(exit.reason)}`);
    }
    for (const generation of this.#generations.values()) generation.lease.release({ vacuum: generation.config.vacuum });
    this.#generations.clear();
    await this.#output.close();
    this.#log.info({ event: 'vassal.stopped' }, `vassal ${this.name} stopped`);
  }

  #view(): GroupView {
    return {
      processes: this.#target.config.processes,
      targetGeneration: this.#target.number,
      rollBlocked: this.#rollBlocked,
      batch: this.#target.config.reloadBatch,
      stopFirst: this.#target.config.stopFirst !== undefined,
      workers: [...this.#workers.values()].map((r) => ({ key: r.key, slot: r.slot, generation: r.generation, phase: r.phase, retire: r.retire })),
      slots: [...this.#slots.entries()].map(([id, s]) => ({ id, lastGeneration: s.lastGeneration, retryAt: s.retryAt })),
    };
  }

  #reconcile(): void {
    if (this.#stopping) return;
    for (const action of planGroup(this.#view(), Date.now())) this.#act(action);
    this.#noteRollDone();
    this.#notifyWatchers();
  }

  #act(action: Action): void {
    switch (action.type) {
      case 'spawn':
        this.#spawn(action.slot, action.generation);
        return;
      case 'stop': {
        const record = this.#workers.get(action.key);
        if (record) void this.#stopWorker(record, action.reason);
        return;
      }
      case 'wake':
        this.#wakeAt(action.at);
        return;
    }
  }

  #spawn(slot: number, generationNumber: number): void {
    const generation = this.#generations.get(generationNumber) ?? this.#target;
    const { config } = generation;
    const key = this.#nextKey++;
    let worker: Worker;
    let stopFifo: StopFifo | undefined;
    try {
      stopFifo = config.stopFifo && StopFifo.create(generation.credentials);
      worker = new Worker(
        {
          launch: {
            argv: config.command,
            cwd: config.chdir,
            baseEnv: this.#deps.tenantEnv ? tenantEnvironment(generation.credentials?.user, this.#deps.tenantEnv) : this.#deps.baseEnv,
            env: config.env,
            fixedEnv: stopFifo && config.stopFifo ? { ...this.#deps.fixedEnv, [config.stopFifo.env]: stopFifo.path } : this.#deps.fixedEnv,
            sockets: generation.lease.sockets.map((s) => ({ fd: s.handle.fd, name: s.spec.name })),
            socketActivation: config.socketActivation,
            notificationFd: config.notificationFd,
            credentials: generation.credentials,
            vassal: this.name,
            workerId: slot,
            generation: generation.number,
          },
          readiness:
            config.notifySocket ? { kind: 'notify-socket' } : config.notificationFd !== undefined ? { kind: 'fd', byte: config.readyByte } : { kind: 'uptime', afterMs: config.readyAfterMs },
          readyTimeoutMs: config.readyTimeoutMs,
          output: this.#output.forWorker(),
          startPriority: this.#deps.startPriority,
        },
        this.#log,
      );
    } catch (err) {
      stopFifo?.remove();
      // Nothing was started (e.g. the notify socket could not be bound): a failed start, under the same backoff.
      this.#log.error({ event: 'worker.spawn-failed', worker: slot, err: (err as Error).message }, `worker ${slot} of ${this.name}: cannot start: ${(err as Error).message}`);
      const slotRecord = this.#slots.get(slot) ?? { health: HEALTHY, retryAt: 0 };
      const { health, delayMs } = afterUnexpectedExit(slotRecord.health, { wasReady: false, readyForMs: 0 }, config.backoff);
      const retryAt = Date.now() + Math.max(delayMs, config.backoff.initialMs);
      this.#slots.set(slot, { ...slotRecord, health, retryAt });
      this.#wakeAt(retryAt);
      this.#notifySettled();
      return;
    }
    const record: WorkerRecord = { key, slot, generation: generation.number, worker, phase: 'starting', stopFifo };
    if (config.maxLifetimeMs > 0) {
      record.lifetimeTimer = setTimeout(() => this.#recycle(record, 'max-worker-lifetime', `up ${config.maxLifetimeMs / 1000} s`), config.maxLifetimeMs);
      record.lifetimeTimer.unref();
    }
    this.#workers.set(key, record);
    const slotRecord = this.#slots.get(slot) ?? { health: HEALTHY, retryAt: 0 };
    slotRecord.lastGeneration = generation.number;
    this.#slots.set(slot, slotRecord);

    void worker.ready.then((result) => {
      if (result.ok) {
        if (record.phase === 'starting') {
          record.phase = 'ready';
          record.readyAt = Date.now();
        }
      } else if (result.reason === 'timeout') {
        this.#log.warn(
          { event: 'worker.ready-timeout', worker: slot, pid: worker.pid, timeoutMs: config.readyTimeoutMs, afterMs: result.afterMs, setupMs: result.setupMs, cpuWaitMs: result.cpuWaitMs, output: worker.outputTail() },
          `worker ${slot} of ${this.name} not ready after ${config.readyTimeoutMs} ms${result.afterMs > config.readyTimeoutMs + 1000 ? ` (${result.afterMs} ms since its spawn: ${result.setupMs ?? 0} ms until its setup was delivered, ${result.cpuWaitMs ?? 0} ms waiting for a CPU)` : ''}: stopping it`,
        );
        // Decided now, not when it has exited: until then the plan would start yet another successor.
        if (this.#incumbentOf(record)) this.#successorFailed(record, `never became ready within ${config.readyTimeoutMs} ms`, {});
        void this.#stopWorker(record, 'ready-timeout');
      }
      this.#reconcile();
    });
    void worker.exited.then((exit) => this.#onExit(record, exit));
  }

  #onExit(record: WorkerRecord, exit: WorkerExit): void {
    this.#workers.delete(record.key);
    clearTimeout(record.lifetimeTimer);
    const left = record.stopFifo?.remove();
    if (left) this.#log.warn({ event: 'worker.stop-fifo-left', worker: record.slot, err: left.message }, `worker ${record.slot} of ${this.name}: its stop FIFO directory was not removed: ${left.message}`);
    const slot = this.#slots.get(record.slot);
    if (slot) {
      const { code, signal, requested, spawnError } = exit;
      slot.lastExit = { key: record.key, at: Date.now(), pid: record.worker.pid, code, signal, requested, wasReady: record.readyAt !== undefined, spawnError };
    }
    const ranOnItsOwn = record.stopReason === undefined || record.stopReason === 'ready-timeout';
    if (record.successorFailed) {
      // Already reported when its ready timeout passed.
    } else if (ranOnItsOwn && record.readyAt === undefined && this.#incumbentOf(record)) {
      this.#successorFailed(record, describeExit(exit), { code: exit.code, signal: exit.signal });
    } else if (ranOnItsOwn) {
      this.#recordFailure(record, exit);
    }
    this.#releaseUnusedGenerations();
    this.#reconcile();
  }

  /** The worker a not-yet-ready worker is meant to replace (same slot, still serving), if any. */
  #incumbentOf(record: WorkerRecord): WorkerRecord | undefined {
    if (this.#stopping) return undefined;
    return [...this.#workers.values()].find((w) => w.key !== record.key && w.slot === record.slot && w.key < record.key && w.phase === 'ready');
  }

  /**
   * A successor failed to start: the incumbent keeps serving. For a reload, the roll stops there (until the next
   * reload) and the failure is reported with the successor's exit and last output; for recycling, this worker is
   * kept rather than replaced.
   */
  #successorFailed(record: WorkerRecord, what: string, exit: { code?: number | null; signal?: NodeJS.Signals | null }): void {
    record.successorFailed = true;
    const incumbent = this.#incumbentOf(record);
    if (incumbent && incumbent.generation === record.generation) {
      incumbent.retire = false;
      incumbent.replacementFailed = what;
      this.#log.warn(
        { event: 'worker.recycle-failed', worker: record.slot, ...exit, output: record.worker.outputTail() },
        `worker ${record.slot} of ${this.name}: its replacement ${what}; keeping the current worker`,
      );
      return;
    }
    if (record.generation !== this.#target.number || this.#rollBlocked) return;
    this.#rollBlocked = true;
    this.#reloadFailures++;
    const startedAt = this.#lastReload?.generation === record.generation ? this.#lastReload.startedAt : Date.now();
    const error = `worker ${record.slot} ${what}`;
    this.#lastReload = { generation: record.generation, result: 'failed', startedAt, endedAt: Date.now(), error, output: record.worker.outputTail() };
    this.#log.error(
      { event: 'vassal.reload-failed', generation: record.generation, worker: record.slot, ...exit, output: record.worker.outputTail() },
      `vassal ${this.name}: reload to generation ${record.generation} failed: worker ${record.slot} ${what}; the previous generation keeps serving`,
    );
    this.#notifySettled();
  }

  #recordFailure(record: WorkerRecord, exit: WorkerExit): void {
    if (this.#stopping) return;
    const slot = this.#slots.get(record.slot);
    if (!slot) return;
    const readyForMs = record.readyAt === undefined ? 0 : Date.now() - record.readyAt;
    const { health, delayMs } = afterUnexpectedExit(slot.health, { wasReady: record.readyAt !== undefined, readyForMs }, this.#target.config.backoff);
    slot.health = health;
    slot.retryAt = Date.now() + delayMs;
    slot.restarts = (slot.restarts ?? 0) + 1;
    this.#notifySettled();
    const fields = { event: 'worker.died', worker: record.slot, code: exit.code, signal: exit.signal, failures: health.failures, restartInMs: delayMs };
    if (delayMs > 0) {
      this.#log.warn(
        { ...fields, output: record.worker.outputTail() },
        `worker ${record.slot} of ${this.name} ${describeExit(exit)} (${health.failures} failures in a row): restarting in ${delayMs} ms`,
      );
    } else {
      this.#log.warn(fields, `worker ${record.slot} of ${this.name} ${describeExit(exit)}: restarting`);
    }
  }

  #stopWorker(record: WorkerRecord, reason: string): Promise<WorkerExit> {
    record.stopReason ??= reason;
    record.phase = 'stopping';
    const { config } = this.#generations.get(record.generation) ?? this.#target;
    const { stopFifo } = record;
    const text = config.stopFifo?.text;
    return record.worker.stop(config.stopSignal, config.mercyMs, config.killMode, stopFifo && text !== undefined ? () => stopFifo.write(text) : undefined);
  }

  /** Old generations hold their sockets until their last worker is gone; then the sockets they alone used close. */
  #releaseUnusedGenerations(): void {
    if (this.#stopping) return;
    const keep = new Set<number>([this.#target.number]);
    for (const r of this.#workers.values()) keep.add(r.generation);
    if (this.#rollBlocked) for (const s of this.#slots.values()) if (s.lastGeneration !== undefined) keep.add(s.lastGeneration);
    for (const [number, generation] of this.#generations) {
      if (keep.has(number)) continue;
      generation.lease.release({ vacuum: generation.config.vacuum });
      this.#generations.delete(number);
    }
  }

  #noteRollDone(): void {
    if (this.#rollStartedAt === undefined) return;
    const workers = [...this.#workers.values()];
    const done =
      workers.filter((w) => w.generation === this.#target.number && w.phase === 'ready').length === this.#target.config.processes &&
      workers.every((w) => w.generation === this.#target.number || w.phase === 'stopping');
    if (!done) return;
    const first = this.#target.number === 1;
    if (!first && this.#lastReload?.generation === this.#target.number) this.#lastReload = { ...this.#lastReload, result: 'done', endedAt: Date.now() };
    this.#log.info(
      { event: first ? 'vassal.ready' : 'vassal.reloaded', generation: this.#target.number, durationMs: Date.now() - this.#rollStartedAt },
      first ? `vassal ${this.name}: all ${this.#target.config.processes} worker(s) ready` : `vassal ${this.name} now runs generation ${this.#target.number}`,
    );
    this.#rollStartedAt = undefined;
    this.#notifySettled();
  }

  /** Marks a ready worker for replacement; the plan starts its successor and retires it once that one is ready. */
  #recycle(record: WorkerRecord, reason: string, detail: string): void {
    if (this.#stopping || record.retire || record.phase !== 'ready' || !this.#workers.has(record.key)) return;
    record.retire = true;
    this.#log.info({ event: 'worker.recycle', worker: record.slot, pid: record.worker.pid, reason }, `recycling worker ${record.slot} of ${this.name} (${reason}: ${detail})`);
    this.#reconcile();
  }

  /** reload-on-rss: every 2 s, the ready workers of generations with a limit are measured (VmRSS). */
  #watchRss(): void {
    const limited = [...this.#generations.values()].some((g) => g.config.reloadOnRssBytes > 0);
    if (!limited || this.#rssTimer) return;
    this.#rssTimer = setInterval(() => void this.#checkRss(), RSS_CHECK_MS);
    this.#rssTimer.unref();
  }

  async #checkRss(): Promise<void> {
    for (const record of this.#workers.values()) {
      const limit = this.#generations.get(record.generation)?.config.reloadOnRssBytes ?? 0;
      if (limit === 0 || record.phase !== 'ready' || record.retire) continue;
      const rss = await record.worker.rssBytes();
      if (rss !== undefined && rss > limit) {
        this.#recycle(record, 'reload-on-rss', `${Math.round(rss / 1048576)} MB resident, limit ${limit / 1048576} MB`);
      }
    }
  }

  /** What the vassal knows about itself now, as plain data (for the status snapshot). Read-only; cheap. */
  snapshot(): VassalFacts {
    const config = this.#target.config;
    const credentials = this.#target.credentials;
    const workers = [...this.#workers.values()].sort((a, b) => a.slot - b.slot || a.key - b.key);
    const slotIds = [...new Set([...Array.from({ length: config.processes }, (_, i) => i + 1), ...workers.map((w) => w.slot)])].sort((a, b) => a - b);
    return {
      name: this.name,
      file: config.file,
      startedAt: this.startedAt,
      stopping: this.#stopping !== undefined,
      processes: config.processes,
      generation: this.#target.number,
      rolling: this.#rollStartedAt !== undefined && !this.#rollBlocked,
      rollBlocked: this.#rollBlocked,
      reloads: this.#reloads,
      reloadFailures: this.#reloadFailures,
      lastReload: this.#lastReload,
      uid: credentials?.uid,
      gid: credentials?.gid,
      sockets: config.sockets.map((s) => ({
        name: s.name,
        kind: s.address.kind,
        mode: s.mode,
        owner: s.owner && `${s.owner.user ?? ''}${s.owner.group !== undefined ? `:${s.owner.group}` : ''}`,
      })),
      workers: workers.map((r) => ({
        id: r.slot,
        pid: r.worker.pid,
        generation: r.generation,
        phase: r.phase,
        startedAt: r.worker.startedAt,
        readyAt: r.readyAt,
        stopReason: r.stopReason,
        retiring: r.retire === true,
      })),
      slots: slotIds.map((id) => {
        const slot = this.#slots.get(id);
        const retryAt = slot && slot.retryAt > Date.now() ? slot.retryAt : undefined;
        return { id, restarts: slot?.restarts ?? 0, failures: slot?.health.failures ?? 0, retryAt, lastExit: slot?.lastExit && withoutKey(slot.lastExit) };
      }),
    };
  }

  /**
   * Restarts worker `id` (its slot). By default as in a roll: a successor starts beside it, and it is stopped once
   * the successor is ready; a successor that fails leaves it serving. With `force` it is stopped now (stop signal,
   * mercy, SIGKILL) and the slot starts a new one once it has exited. Resolves when the slot has a new ready worker
   * and the old one has exited, or with why not (never rejects).
   */
  restartWorker(id: number, options: { force?: boolean } = {}): Promise<RestartOutcome> {
    const fail = (error: string): Promise<RestartOutcome> => Promise.resolve({ ok: false, error });
    if (this.#stopping) return fail(`vassal ${this.name} is stopping`);
    const inSlot = [...this.#workers.values()].filter((w) => w.slot === id && w.phase !== 'stopping').sort((a, b) => a.key - b.key);
    const current = inSlot[inSlot.length - 1];
    if (!current) {
      const slot = this.#slots.get(id);
      if (id > this.#target.config.processes || !slot) return fail(`vassal ${this.name} has no worker ${id} (processes = ${this.#target.config.processes})`);
      const waitMs = slot.retryAt - Date.now();
      return fail(`worker ${id} of ${this.name} is not running${waitMs > 0 ? ` (crash-loop backoff: next start in ${Math.ceil(waitMs / 1000)} s)` : ''}`);
    }
    if (!options.force && (current.phase !== 'ready' || inSlot.length > 1 || current.retire)) {
      const what = current.phase !== 'ready' ? 'still starting' : 'already being replaced';
      return fail(`worker ${id} of ${this.name} is ${what}: nothing to roll to yet (--force stops it now)`);
    }
    const old = inSlot.map((w) => w.key);
    const newest = Math.max(...old);
    this.#log.info(
      { event: 'worker.restart', worker: id, pid: current.worker.pid, force: options.force === true },
      `restarting worker ${id} of ${this.name}${options.force ? ' (forced: stopping it now)' : ': successor first'}`,
    );
    if (options.force) {
      for (const record of inSlot) void this.#stopWorker(record, 'restart');
    } else {
      current.retire = true;
      current.replacementFailed = undefined;
      this.#reconcile();
    }
    return this.#until((): RestartOutcome | undefined => {
      if (this.#stopping) return { ok: false, error: `vassal ${this.name} is stopping` };
      if (!options.force && current.replacementFailed !== undefined && this.#workers.has(current.key)) {
        return { ok: false, error: `worker ${id} of ${this.name}: its successor ${current.replacementFailed}; the worker keeps serving` };
      }
      const lastExit = this.#slots.get(id)?.lastExit;
      if (lastExit && lastExit.key > newest && !lastExit.wasReady) {
        const how = lastExit.spawnError ? `could not start: ${lastExit.spawnError}` : lastExit.signal ? `was killed by ${lastExit.signal}` : `exited with code ${lastExit.code}`;
        return { ok: false, error: `worker ${id} of ${this.name}: the new worker ${how} before it was ready` };
      }
      const successor = [...this.#workers.values()].find((w) => w.slot === id && w.key > newest && w.phase === 'ready');
      if (!successor || old.some((key) => this.#workers.has(key))) return undefined;
      return { ok: true, replaced: inSlot.map((w) => w.worker.pid ?? 0), pid: successor.worker.pid };
    });
  }

  /** Resolves with what `check` returns once it returns something; checked now, after every reconcile and at stop. */
  #until<T>(check: () => T | undefined): Promise<T> {
    return new Promise((resolve) => {
      const watcher = (): void => {
        const result = check();
        if (result === undefined) return;
        this.#watchers.delete(watcher);
        resolve(result);
      };
      this.#watchers.add(watcher);
      watcher();
    });
  }

  #notifyWatchers(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }

  #wakeAt(at: number): void {
    if (at >= this.#timerAt && this.#timer) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#reconcile();
    }, Math.max(0, at - Date.now()));
  }
}

function withoutKey({ key: _key, ...exit }: ExitRecord & { readonly key: number }): ExitRecord {
  return exit;
}
