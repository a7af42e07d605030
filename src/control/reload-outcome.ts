import type { EmperorFacts, VassalFileFacts } from '../emperor/emperor-facts.js';

/** What one reload did to one vassal. */
export interface ReloadResult {
  readonly vassal: string;
  readonly file: string;
  /**
   * done: it rolls to (`wait`: runs) its new generation; started: it was not running and now is (its file
   * appeared, or its earlier start had failed); failed: see `error` (the running version, if any, keeps serving).
   */
  readonly result: 'done' | 'started' | 'failed';
  readonly generation?: number;
  readonly error?: string;
}

/**
 * What a reload asked for at `requestedAt` did, read from the emperor's facts once it has returned (Emperor.reload
 * waited for the rolls): for `files`, or for every vassal file. With `wait` false, a roll still in progress counts as
 * done. Pure.
 */
export function reloadResults(after: EmperorFacts, requestedAt: number, options: { readonly files?: readonly string[]; readonly wait: boolean }): ReloadResult[] {
  const chosen = options.files ? after.files.filter((f) => options.files?.includes(f.file) && !f.retiring) : after.files.filter((f) => !f.retiring);
  return chosen.map((f) => resultOf(f, requestedAt, options.wait));
}

function resultOf(f: VassalFileFacts, requestedAt: number, wait: boolean): ReloadResult {
  const base = { vassal: f.name, file: f.file };
  const failed = (error: string): ReloadResult => ({ ...base, result: 'failed', ...(f.vassal ? { generation: f.vassal.generation } : {}), error });
  const configError = f.configError;
  if (configError && configError.at >= requestedAt) {
    const first = configError.errors[0];
    const where = first ? `${first.line ? `${first.file}:${first.line}` : first.file}: ${first.message}` : 'errors';
    const kept = f.vassal ? '; the running version keeps serving' : '';
    return failed(`config error: ${where}${configError.errors.length > 1 ? ` (and ${configError.errors.length - 1} more)` : ''}${kept}`);
  }
  const v = f.vassal;
  if (!v) return failed(f.startError ? `cannot start: ${f.startError.message}` : f.starting ? 'still starting' : 'not running');
  if (v.startedAt >= requestedAt) return { ...base, result: 'started', generation: v.generation };
  const reload = v.lastReload;
  if (!reload || reload.startedAt < requestedAt) return failed('no new generation was started');
  if (reload.result === 'failed') return failed(reload.error ?? 'the roll failed');
  if (reload.result === 'rolling' && wait) {
    // Emperor.reload returned, so the roll is not making progress: a worker waits out a crash-loop backoff.
    const waiting = v.slots.filter((s) => s.retryAt !== undefined).map((s) => s.id);
    return failed(`generation ${reload.generation} is not all ready: worker ${waiting.join(', ') || '?'} keeps failing (crash-loop backoff)`);
  }
  return { ...base, result: 'done', generation: reload.generation };
}
