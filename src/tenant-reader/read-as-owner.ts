import { statSync } from 'node:fs';
import os from 'node:os';
import { systemFacts } from '../config/config-host.js';
import { inReadingOrder, type Diagnostic } from '../config/diagnostic.js';
import { buildFromRead, NO_DEFAULTS, uwsgiContext, type VassalDefaults } from '../config/load-vassal.js';
import type { Observation } from '../config/recording-host.js';
import type { VassalConfigResult } from '../config/vassal-config.js';
import { runReader } from './reader-process.js';
import { decodeReplies, MAX_REPLY_BYTES_PER_FILE, ReplayedReferences, type Checked, type ReaderReply, type ReaderRequest } from './reader-protocol.js';

/** How long a reader of one file may take, from its start (ms); then it is SIGKILLed and the read counts as failed. */
export const READ_TIMEOUT_MS = 10_000;
/** What each further file of a batch adds to its reader's time limit (ms). */
const READ_TIMEOUT_PER_EXTRA_FILE_MS = 1000;

/**
 * Readers running at once. Each is a Node process (about 50 MB, 150-200 ms of CPU to start): 100 vassal files
 * appearing together must not start 100 of them at the same moment.
 */
const MAX_READERS = Math.max(4, 2 * os.availableParallelism());
/**
 * Files of one owner that wait for a reader together are read by one reader, up to this many. One owner has at most
 * one reader running: a tenant who stops (SIGSTOP) or slows their reader holds up their own files, never more than
 * one of the MAX_READERS slots the other tenants' files need. Large, because one owner's readers run one after the
 * other, each a Node start: with 32, the 100 files of one owner took 5 readers in a row, the later ones starved by
 * the workers already starting (0.8, 1.7 and 3.0 s each), and 100 x 2 Node workers were all spawned after 6.7 s;
 * with 128, 2 readers and 2.7 s (2026-12-04, one tenant, two runs).
 */
const MAX_BATCH = 128;
/** The most a batch's reply may hold, whatever its size (its files are one tenant's; too much fails them all). */
const MAX_BATCH_REPLY_BYTES = 256 * 1024 * 1024;

export interface ReadAsOwnerOptions {
  /** vassals-include / vassal-set of the emperor. Its templates are read as the owner too. */
  readonly defaults?: VassalDefaults;
  /** The emperor's variables passed to tenants (tyrant-pass-env); the rest of the tenant's environment is fixed. */
  readonly passed?: Readonly<Record<string, string>>;
  /** Time limit of a reader of one file (ms); READ_TIMEOUT_MS by default. */
  readonly timeoutMs?: number;
  /** Aborting kills the reader (the emperor is stopping). */
  readonly signal?: AbortSignal;
}

/** How one reader run went, for the log and for measurements. */
export interface ReaderRun {
  readonly pid: number | undefined;
  /** From the reader's start to its exit (ms). */
  readonly wallMs: number;
  /** Time spent waiting for a free reader slot (ms). */
  readonly queuedMs: number;
  /** How many vassal files that reader read (files of the same owner waiting together share one). */
  readonly files: number;
}

type Owner = { readonly uid: number; readonly gid: number };
/** The config (or why not), how the reader ran, and what the config looked at besides its file (for reloads). */
type Answer = { result: VassalConfigResult; run: ReaderRun; observations: readonly Observation[] };

interface Waiting {
  readonly file: { readonly path: string; readonly text: string };
  readonly owner: Owner;
  readonly options: ReadAsOwnerOptions;
  readonly queuedAt: number;
  readonly resolve: (answer: Answer) => void;
}

const queue: Waiting[] = [];
let running = 0;
/** Owners (`uid:gid`) with a reader running. */
const busy = new Set<string>();

const ownerOf = (w: Waiting): string => `${w.owner.uid}:${w.owner.gid}`;

/**
 * Reads a vassal file's config with the rights of `owner`, in a short-lived reader process (reader-child.ts) that
 * drops to that uid/gid before it reads anything: includes, `@(file)`, `for-readline`, `for-glob`, `if-exists`,
 * the emperor's `vassals-include` templates. `$(VAR)` resolves against the tenant's environment
 * (runtime/tenant-env.ts) plus `passed`, never the emperor's. `file.text` is the content the emperor read (the
 * file is opened once, by its scanner); the reader does not open the vassal file again.
 *
 * At most MAX_READERS readers run at once, at most one per owner; files of the same owner (and options) that wait
 * together are read by one reader (what a reader costs is mostly Node's start), which also means that one of them
 * that breaks the reader fails the others: all are the same tenant's.
 *
 * The reply comes from a process running as the tenant, so it is treated as the tenant's input: size-bounded,
 * type-checked, and the VassalConfig is built here from the reader's findings by the same code as in default mode.
 * The caller applies the tyrant rules (uid/gid = the owner's) afterwards. Never throws: a reader that crashes, is
 * killed, times out or answers nonsense gives an error diagnostic marked `external` (to be retried).
 */
export function readAsOwner(file: { readonly path: string; readonly text: string }, owner: Owner, options: ReadAsOwnerOptions = {}): Promise<Answer> {
  return new Promise((resolve) => {
    queue.push({ file, owner, options, queuedAt: performance.now(), resolve });
    pump();
  });
}

function pump(): void {
  while (running < MAX_READERS) {
    const first = queue.findIndex((w) => !busy.has(ownerOf(w)));
    if (first < 0) return;
    const head = queue.splice(first, 1)[0]!;
    const batch = [head];
    for (let i = first; i < queue.length && batch.length < MAX_BATCH; ) {
      const w = queue[i]!;
      const same = ownerOf(w) === ownerOf(head) && sameOptions(w.options, head.options);
      if (same && !batch.some((b) => b.file.path === w.file.path)) batch.push(...queue.splice(i, 1));
      else i++;
    }
    running++;
    busy.add(ownerOf(head));
    void readBatch(batch)
      .catch((err: Error) => {
        // A bug here must not leave a vassal waiting for ever.
        for (const w of batch) {
          w.resolve({ result: failed(w.file.path, w.owner, `internal error: ${err.message}`), run: { pid: undefined, wallMs: 0, queuedMs: 0, files: batch.length }, observations: [] });
        }
      })
      .finally(() => {
        running--;
        busy.delete(ownerOf(head));
        pump();
      });
  }
}

function sameOptions(a: ReadAsOwnerOptions, b: ReadAsOwnerOptions): boolean {
  return a.defaults === b.defaults && a.passed === b.passed && a.timeoutMs === b.timeoutMs && a.signal === b.signal;
}

async function readBatch(batch: readonly Waiting[]): Promise<void> {
  const { owner, options } = batch[0]!;
  const startedAt = performance.now();
  const request: ReaderRequest = {
    files: batch.map((w) => ({ file: w.file.path, text: w.file.text })),
    defaults: options.defaults ?? NO_DEFAULTS,
    passed: options.passed ?? {},
    cwd: process.cwd(),
    startedAtMicros: systemFacts().startedAtMicros,
  };
  const outcome = await runReader(owner, JSON.stringify(request), {
    timeoutMs: (options.timeoutMs ?? READ_TIMEOUT_MS) + (batch.length - 1) * READ_TIMEOUT_PER_EXTRA_FILE_MS,
    maxReplyBytes: Math.min(MAX_REPLY_BYTES_PER_FILE * batch.length, MAX_BATCH_REPLY_BYTES),
    signal: options.signal,
  });
  const wallMs = performance.now() - startedAt;
  const replies: Checked<Checked<ReaderReply>[]> = 'failure' in outcome ? { ok: false, reason: outcome.failure } : decodeReplies(outcome.json, batch.length);
  batch.forEach((w, i) => {
    const run: ReaderRun = { pid: outcome.pid, wallMs, queuedMs: startedAt - w.queuedAt, files: batch.length };
    const reply: Checked<ReaderReply> = replies.ok ? replies.value[i]! : { ok: false, reason: replies.reason };
    w.resolve({ result: reply.ok ? build(w.file.path, reply.value, options.defaults ?? NO_DEFAULTS) : failed(w.file.path, owner, reply.reason), run, observations: reply.ok ? reply.value.observations : [] });
  });
}

/** The config from a reader's reply, built here by the same code as in default mode; the owner's checks added. */
function build(file: string, reply: ReaderReply, defaults: VassalDefaults): VassalConfigResult {
  const { read, expansions, checks } = reply;
  // A uWSGI app's binary is the emperor's setting: looked for here, not taken from the reader.
  const uwsgi = uwsgiContext(defaults, read, process.cwd(), (p) => statSync(p, { throwIfNoEntry: false })?.isFile() ?? false);
  const built = buildFromRead(read, file, new ReplayedReferences(read.entries, expansions), uwsgi);
  if (!built.ok || checks.length === 0) return built;
  const diagnostics = inReadingOrder([...built.diagnostics, ...checks]);
  return checks.some((d) => d.severity === 'error') ? { ok: false, diagnostics } : { ok: true, config: built.config, diagnostics };
}

function failed(file: string, owner: Owner, reason: string): VassalConfigResult {
  const diagnostic: Diagnostic = {
    severity: 'error',
    file,
    message: `emperor-tyrant: reading the config as its owner (uid ${owner.uid} gid ${owner.gid}) failed: ${reason}`,
    external: true,
  };
  return { ok: false, diagnostics: [diagnostic] };
}
