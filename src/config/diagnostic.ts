/**
 * A finding about a config file, located at `file:line` so an editor can jump to it.
 *
 * - `error`: the file (or option) cannot be used; a vassal with an error is not started or reloaded.
 * - `warning`: the file is used, but something in it is probably not what the author meant.
 * - `note`: information, e.g. a uWSGI option that does not apply to a generic supervisor.
 */
export type Severity = 'error' | 'warning' | 'note';

export interface Diagnostic {
  readonly severity: Severity;
  /** Path of the file as the user named it (or as found in the vassal directory). */
  readonly file: string;
  /** 1-based line number; absent (or 0, for the command line) when the finding has no line. */
  readonly line?: number;
  /** The option the finding is about, when there is one. */
  readonly key?: string;
  readonly message: string;
  /**
   * Set on an error whose cause lies outside the vassal file's own text: an include or `@(file)` that is missing or
   * unreadable, an unset `$(VAR)`, a read as the file's owner that failed. The same text may then work later, so
   * the emperor retries such a vassal with backoff instead of waiting for its file to change.
   */
  readonly external?: boolean;
}

/** `file:line: severity: message`, the format of gcc and most linters, so terminals and editors link it. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line ? `${d.file}:${d.line}` : d.file;
  return `${where}: ${d.severity}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/**
 * Diagnostics in reading order: grouped by file (in order of first appearance), then by line, line-less ones first
 * in their file; otherwise as found. Reading and validating find things in two passes; a user reads top to bottom.
 */
export function inReadingOrder(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const files = new Map<string, number>();
  for (const d of diagnostics) if (!files.has(d.file)) files.set(d.file, files.size);
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => files.get(a.d.file)! - files.get(b.d.file)! || (a.d.line ?? 0) - (b.d.line ?? 0) || a.i - b.i)
    .map(({ d }) => d);
}

/** Past this many findings for one file, more of them help nobody; the rest is summed up in one line. */
export const MAX_DIAGNOSTICS = 1000;

/** Adds a finding unless the list is full; the first one over the limit becomes a note that more were left out. */
export function addDiagnostic(list: Diagnostic[], d: Diagnostic): void {
  if (list.length < MAX_DIAGNOSTICS) list.push(d);
  else if (list.length === MAX_DIAGNOSTICS) list.push({ severity: d.severity === 'error' ? 'error' : 'note', file: d.file, message: `more than ${MAX_DIAGNOSTICS} findings; the rest are not reported` });
}
