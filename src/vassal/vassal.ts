import type { Logger } from 'pino';
import type { VassalConfig } from '../config/vassal-config.js';
import type { SocketLease, SocketRegistry } from '../socket/socket-registry.js';
import { describeExit, Worker, type WorkerExit } from '../worker/worker.js';
import { afterUnexpectedExit, HEALTHY, type SlotHealth } from './backoff.js';
import { planGroup, type Action, type GroupView, type WorkerPhase } from './group-plan.js';
import { reloadKind } from './reload-kind.js';

export interface VassalDeps {
  readonly registry: SocketRegistry;
  readonly log: Logger;
  /** The environment workers start from. */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
}

interface Generation {
  readonly number: number;
  /** Replaced in place when only `processes` changes (a scale is not a new generation). */
  config: VassalConfig;
  readonly lease: SocketLease;
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
}

interface SlotRecord {
  health: SlotHealth;
  retryAt: number;
  lastGeneration?: number;
}

/** A snapshot for status output and tests. */
export interface VassalStatus {
  readonly name: string;
  readonly generation: number;
  readonly processes: number;
  readonly rollBlocked: boolean;
  readonly workers: readonly { readonly slot: number; readonly pid: number | undefined; readonly generation: number; readonly phase: WorkerPhase }[];
}

/**
 * One worker group: its desired config (by generation), its workers, and its sockets. Every event (worker ready or
 * exited, new config, backoff elapsed) ends in the same reconcile: plan from a snapshot (group-plan.ts), then act.
 */
export class Vassal {
  readonly name: string;
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

  private constructor(first: Generation, deps: VassalDeps) {
    this.name = first.config.name;
    this.#deps = deps;
    this.#log = deps.log;
    this.#target = first;
    this.#generations.set(first.number, first);
  }

  /** Binds the vassal's sockets and starts its workers. Rejects (with nothing left running) if a socket cannot be bound. */
  static async start(config: VassalConfig, deps: VassalDeps): Promise<Vassal> {
    const lease = await deps.registry.lease(config.sockets);
    const vassal = new Vassal({ number: 1, config, lease }, deps);
    vassal.#log.info(
      { event: 'vassal.start', processes: config.processes, sockets: config.sockets.map((s) => s.name) },
      `vassal ${config.name} starting ${config.processes} worker(s)`,
    );
    vassal.#reconcile();
    return vassal;
  }

  get config(): VassalConfig {
    return this.#target.config;
  }

  get stopped(): boolean {
    return this.#stopping !== undefined;
  }

  /**
   * Applies a new config: scales when only `processes` changed, otherwise starts a rolling reload to a new
   * generation (also when `force` is set with the same config, as SIGHUP does). Rejects, leaving the running
   * generation untouched, if the new config's sockets cannot be bound.
   */
  update(config: VassalConfig, options: { force?: boolean } = {}): Promise<void> {
    const next = this.#queue.then(() => this.#apply(config, options.force ?? false));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #apply(config: VassalConfig, force: boolean): Promise<void> {
    if (this.#stopping) return;
    const kind = reloadKind(this.#target.config, config, force);
    if (kind === 'none') return;
    if (kind === 'scale') {
      this.#log.info(
        { event: 'vassal.scale', from: this.#target.config.processes, to: config.processes },
        `vassal ${this.name} scaling from ${this.#target.config.processes} to ${config.processes} worker(s)`,
      );
      this.#target.config = config;
      this.#reconcile();
      return;
    }
    const lease = await this.#deps.registry.lease(config.sockets);
    if (this.#stopping) {
      lease.release({ vacuum: false });
      return;
    }
    const generation: Generation = { number: this.#target.number + 1, config, lease };
    this.#generations.set(generation.number, generation);
    this.#target = generation;
    this.#rollBlocked = false;
    this.#rollStartedAt = Date.now();
    // A new generation is a fresh chance: slots waiting out a crash-loop backoff start at once.
    for (const slot of this.#slots.values()) {
      slot.retryAt = 0;
      slot.health = HEALTHY;
    }
    this.#log.info({ event: 'vassal.reload', generation: generation.number }, `vassal ${this.name} rolling to generation ${generation.number}`);
    this.#reconcile();
    this.#releaseUnusedGenerations();
  }

  /** Stops every worker (signal, mercy, SIGKILL, to each process group) and releases the sockets. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    this.#log.info({ event: 'vassal.stop' }, `vassal ${this.name} stopping`);
    clearTimeout(this.#timer);
    await this.#queue;
    const exits = [...this.#workers.values()].map((r) => this.#stopWorker(r, 'vassal-stop'));
    await Promise.all(exits);
    for (const generation of this.#generations.values()) generation.lease.release({ vacuum: this.#target.config.vacuum });
    this.#generations.clear();
    this.#log.info({ event: 'vassal.stopped' }, `vassal ${this.name} stopped`);
  }

  status(): VassalStatus {
    return {
      name: this.name,
      generation: this.#target.number,
      processes: this.#target.config.processes,
      rollBlocked: this.#rollBlocked,
      workers: [...this.#workers.values()].map((r) => ({ slot: r.slot, pid: r.worker.pid, generation: r.generation, phase: r.phase })),
    };
  }

  #view(): GroupView {
    return {
      processes: this.#target.config.processes,
      targetGeneration: this.#target.number,
      rollBlocked: this.#rollBlocked,
      batch: this.#target.config.reloadBatch,
      workers: [...this.#workers.values()].map((r) => ({ key: r.key, slot: r.slot, generation: r.generation, phase: r.phase })),
      slots: [...this.#slots.entries()].map(([id, s]) => ({ id, lastGeneration: s.lastGeneration, retryAt: s.retryAt })),
    };
  }

  #reconcile(): void {
    if (this.#stopping) return;
    for (const action of planGroup(this.#view(), Date.now())) this.#act(action);
    this.#noteRollDone();
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
    const worker = new Worker(
      {
        launch: {
          argv: config.command,
          cwd: config.chdir,
          baseEnv: this.#deps.baseEnv,
          env: config.env,
          sockets: generation.lease.sockets.map((s) => ({ fd: s.handle.fd, name: s.spec.name })),
          notificationFd: config.notificationFd,
          vassal: this.name,
          workerId: slot,
          generation: generation.number,
        },
        readiness: config.notificationFd === undefined ? { kind: 'uptime', afterMs: config.readyAfterMs } : { kind: 'fd' },
        readyTimeoutMs: config.readyTimeoutMs,
      },
      this.#log,
    );
    const record: WorkerRecord = { key, slot, generation: generation.number, worker, phase: 'starting' };
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
          { event: 'worker.ready-timeout', worker: slot, pid: worker.pid, timeoutMs: config.readyTimeoutMs, output: worker.outputTail() },
          `worker ${slot} of ${this.name} not ready after ${config.readyTimeoutMs} ms: stopping it`,
        );
        void this.#stopWorker(record, 'ready-timeout');
      }
      this.#reconcile();
    });
    void worker.exited.then((exit) => this.#onExit(record, exit));
  }

  #onExit(record: WorkerRecord, exit: WorkerExit): void {
    this.#workers.delete(record.key);
    const failedStart = record.readyAt === undefined && (record.stopReason === undefined || record.stopReason === 'ready-timeout');
    const isSuccessor = [...this.#workers.values()].some((w) => w.slot === record.slot && w.generation < record.generation && w.phase !== 'stopping');
    if (failedStart && isSuccessor && record.generation === this.#target.number && !this.#rollBlocked && !this.#stopping) {
      this.#rollBlocked = true;
      this.#log.error(
        {
          event: 'vassal.reload-failed',
          generation: record.generation,
          worker: record.slot,
          code: exit.code,
          signal: exit.signal,
          output: record.worker.outputTail(),
        },
        `vassal ${this.name}: reload to generation ${record.generation} failed: worker ${record.slot} ${record.stopReason === 'ready-timeout' ? 'never became ready' : describeExit(exit)}; the previous generation keeps serving`,
      );
    } else if (record.stopReason === undefined || record.stopReason === 'ready-timeout') {
      this.#recordFailure(record, exit);
    }
    this.#releaseUnusedGenerations();
    this.#reconcile();
  }

  #recordFailure(record: WorkerRecord, exit: WorkerExit): void {
    if (this.#stopping) return;
    const slot = this.#slots.get(record.slot);
    if (!slot) return;
    const readyForMs = record.readyAt === undefined ? 0 : Date.now() - record.readyAt;
    const { health, delayMs } = afterUnexpectedExit(slot.health, { wasReady: record.readyAt !== undefined, readyForMs }, this.#target.config.backoff);
    slot.health = health;
    slot.retryAt = Date.now() + delayMs;
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
    return record.worker.stop(config.stopSignal, config.mercyMs);
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
    this.#log.info(
      { event: 'vassal.reloaded', generation: this.#target.number, durationMs: Date.now() - this.#rollStartedAt },
      `vassal ${this.name} now runs generation ${this.#target.number}`,
    );
    this.#rollStartedAt = undefined;
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
