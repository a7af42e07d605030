/**
 * Splits a worker's output stream into lines and keeps the last few, so a failed start can be reported with what
 * the worker printed. Bounded in lines and in line length: a chatty or binary-spewing worker cannot grow the emperor.
 */
export class OutputTail {
  readonly #lines: string[] = [];
  #partial = '';

  constructor(
    private readonly maxLines = 20,
    private readonly maxLineLength = 4096,
  ) {}

  /** Feeds a chunk; returns the complete lines it finished (a long line is cut at maxLineLength). */
  push(chunk: string): string[] {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    if (this.#partial.length > this.maxLineLength) {
      parts.push(this.#partial);
      this.#partial = '';
    }
    const lines = parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).map((l) => (l.length > this.maxLineLength ? `${l.slice(0, this.maxLineLength)}…` : l));
    for (const line of lines) this.#remember(line);
    return lines;
  }

  /** Ends the stream: an unterminated last line still counts. */
  flush(): string[] {
    if (this.#partial === '') return [];
    const line = this.#partial;
    this.#partial = '';
    this.#remember(line);
    return [line];
  }

  lines(): string[] {
    return [...this.#lines];
  }

  #remember(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.maxLines) this.#lines.shift();
  }
}
