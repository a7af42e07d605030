/**
 * Splits a worker's output streams into lines and keeps the last few of all of them, in the order they were
 * completed, so a failed start can be reported with what the worker printed. Each stream keeps its own unfinished
 * line (a half line on stdout never joins a line of stderr). Bounded in lines and in line length: a chatty or
 * binary-spewing worker cannot grow the emperor.
 */
export class OutputTail {
  readonly #lines: string[] = [];
  readonly #partial = new Map<string, string>();

  constructor(
    private readonly maxLines = 20,
    private readonly maxLineLength = 4096,
  ) {}

  /** Feeds a chunk of `stream`; returns the complete lines it finished (a long line is cut at maxLineLength). */
  push(stream: string, chunk: string): string[] {
    const parts = ((this.#partial.get(stream) ?? '') + chunk).split('\n');
    let partial = parts.pop() ?? '';
    if (partial.length > this.maxLineLength) {
      parts.push(partial);
      partial = '';
    }
    this.#partial.set(stream, partial);
    const lines = parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).map((l) => (l.length > this.maxLineLength ? `${l.slice(0, this.maxLineLength)}…` : l));
    for (const line of lines) this.#remember(line);
    return lines;
  }

  /** Ends `stream`: its unterminated last line still counts. */
  flush(stream: string): string[] {
    const line = this.#partial.get(stream) ?? '';
    this.#partial.delete(stream);
    if (line === '') return [];
    this.#remember(line);
    return [line];
  }

  /** Keeps already split lines (the last ones of a batch a log pump delivered). */
  add(lines: readonly string[]): void {
    for (const line of lines) this.#remember(line.length > this.maxLineLength ? `${line.slice(0, this.maxLineLength)}…` : line);
  }

  lines(): string[] {
    return [...this.#lines];
  }

  #remember(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.maxLines) this.#lines.shift();
  }
}
