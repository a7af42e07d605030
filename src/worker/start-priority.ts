import { getPriority, setPriority } from 'node:os';
import { readAutogroupNice, writeAutogroupNice } from '../runtime/autogroup.js';
import { forEachThread } from './process-tree.js';
import { StartStorm, type StartNicePolicy } from './start-storm.js';

/**
 * `nice-until-ready`, applied: a worker spawned during a start storm (start-storm.ts) runs at a lower CPU priority
 * until it is ready, then gets the emperor's own back. Two kernel knobs, because which one the scheduler heeds
 * depends on the host:
 * - the worker's session autogroup (`/proc/PID/autogroup`, sched(7)). Each worker is its own session (setsid), so
 *   with autogroups on (the Linux default where CONFIG_SCHED_AUTOGROUP is built) it is its own scheduling group,
 *   and 200 starting workers are 200 groups each weighing as much as the whole emperor; a thread's nice value
 *   only counts inside its group. Writing the group's nice covers every process and thread of the session at once.
 * - the nice value of the chain's one thread, which every thread and process the program makes inherits. That is
 *   what counts when autogroups do not apply (switched off, or the emperor is in a cgroup of the cpu controller),
 *   and it is undone by a walk of the worker's tree (/proc/PID/task/TID/children) that resets each thread still at
 *   the lowered value; threads the program set to another value itself (uWSGI's `prio`) are left as they are.
 * Only root may give back a priority taken away (setpriority(2)), so the emperor applies this only as root.
 */

/** What begin() did for one worker, for end(). */
export interface StartToken {
  readonly pid: number | undefined;
  /** The nice value the worker started at, when lowered. */
  readonly nice: number | undefined;
  /** Its session's autogroup was lowered too. */
  readonly autogroup: boolean;
  /**
   * It began during a start storm (start-storm.ts), whether or not that lowered it: it should wait for the emperor's
   * batch of spawns to end before it runs. A worker begun outside one may run at once.
   */
  readonly storm: boolean;
  ended: boolean;
  /** Its priority was given back (ready, or the storm is over). */
  restored: boolean;
  /** Its process has not been reaped, so its pid is still its own: only then is anything written to it. */
  readonly alive: () => boolean;
  /** Gives the priority back after LOWERED_AT_MOST_MS, ready or not. */
  timer?: NodeJS.Timeout;
}

/**
 * How long a worker stays lowered at most, ready or not. A machine kept busy by other work (requests served, another
 * service) would otherwise leave a lowered worker almost no CPU for as long as that lasts (nice 19 weighs 15 against
 * nice 0's 1024); this bounds what the rule can cost one worker's start, well below ready-timeout's 60 s. Long
 * enough to cover most of a storm (100 x 2 Node workers are all ready 11-12 s after the drop here), where 5 s
 * gave the first ones their priority back while most were still starting.
 */
export const LOWERED_AT_MOST_MS = 10_000;

// Without CAP_SYS_ADMIN (root in a container) the kernel takes one autogroup change per 100 ms, system-wide (EAGAIN
// otherwise): a restore is tried again until it is taken or the worker is gone.
const AUTOGROUP_RETRY_MS = 110;

/**
 * Resets every thread of `pid` and of its descendants that is at nice `from` to `to`; walks at most WALK_LIMIT
 * threads. Threads and processes that go away meanwhile are skipped. Returns how many threads were reset.
 */
export function restoreTree(pid: number, from: number, to: number): number {
  let reset = 0;
  forEachThread(pid, (_, tid) => {
    try {
      if (getPriority(tid) === from) {
        setPriority(tid, to);
        reset++;
      }
    } catch {
      // Gone since the listing.
    }
  });
  return reset;
}

/** One per emperor: decides, lowers and restores the start priority of its workers. */
export class StartPriority {
  readonly #storm: StartStorm;
  readonly #threadNice: number;
  readonly #autogroupNice: number | undefined;
  /** Lowered and not given back yet: given back when the storm is over, ready or not. */
  readonly #lowered = new Set<StartToken>();

  /**
   * `own`: the priority workers get back once ready, read from this process by default (a unit's Nice= included):
   * its thread's nice value and its autogroup's.
   */
  constructor(policy: StartNicePolicy, own: { threadNice: number; autogroupNice: number | undefined } = { threadNice: getPriority(), autogroupNice: readAutogroupNice('self') }) {
    this.#storm = new StartStorm(policy);
    this.#threadNice = own.threadNice;
    this.#autogroupNice = own.autogroupNice;
  }

  /** Workers begun and not yet ended. */
  get starting(): number {
    return this.#storm.starting;
  }

  /**
   * A worker was just spawned (`pid`; undefined when the spawn failed). Call it before the chain gets its setup
   * text: the chain is one thread until then, so whatever the program starts inherits the lowered value. `alive()`
   * says its process has not been reaped yet (its pid is still its own); nothing is written to it otherwise.
   */
  begin(pid: number | undefined, alive: () => boolean): StartToken {
    if (pid === undefined) return { pid, nice: undefined, autogroup: false, storm: false, ended: true, restored: true, alive };
    const storm = this.#storm.starting >= this.#storm.policy.stormSize;
    const nice = this.#storm.begin();
    if (nice === undefined || nice <= this.#threadNice) return { pid, nice: undefined, autogroup: false, storm, ended: false, restored: true, alive };
    try {
      setPriority(pid, nice);
    } catch {
      // Exited already: its exit ends the token.
    }
    const autogroup = this.#autogroupNice !== undefined && writeAutogroupNice(pid, nice) === undefined;
    const token: StartToken = { pid, nice, autogroup, storm, ended: false, restored: false, alive };
    this.#lowered.add(token);
    token.timer = setTimeout(() => this.#restore(token), LOWERED_AT_MOST_MS).unref();
    return token;
  }

  /**
   * The worker is ready, or being stopped, or gone: its priority is given back, and if that ends the storm, the
   * priority of every worker still lowered too. Idempotent.
   */
  end(token: StartToken): void {
    if (token.ended) return;
    token.ended = true;
    const stormOver = this.#storm.end();
    this.#restore(token);
    if (stormOver) for (const other of this.#lowered) this.#restore(other);
  }

  /** Gives a lowered worker the emperor's priority back, if its pid is still its own (`alive()`). */
  #restore(token: StartToken): void {
    if (token.restored) return;
    token.restored = true;
    clearTimeout(token.timer);
    this.#lowered.delete(token);
    const { alive } = token;
    if (token.pid === undefined || token.nice === undefined || !alive()) return;
    restoreTree(token.pid, token.nice, this.#threadNice);
    if (token.autogroup && this.#autogroupNice !== undefined) this.#restoreAutogroup(token.pid, this.#autogroupNice, alive);
  }

  #restoreAutogroup(pid: number, nice: number, alive: () => boolean): void {
    if (!alive() || writeAutogroupNice(pid, nice) !== 'EAGAIN') return;
    setTimeout(() => this.#restoreAutogroup(pid, nice, alive), AUTOGROUP_RETRY_MS).unref();
  }
}
