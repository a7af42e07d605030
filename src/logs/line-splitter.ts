/**
 * The longest line written as one, in bytes: a longer one is split into lines of at most this many bytes (cut at a
 * UTF-8 character boundary). Docker's json-file driver splits at the same 16 KiB. A worker that prints without a
 * newline therefore holds at most this much in the emperor, per stream.
 */
export const LINE_LIMIT = 16 * 1024;

const NL = 0x0a;

/**
 * Splits one output stream into complete lines, as bytes. `push` returns the lines a chunk completed (each ending in
 * "\n", a long line split into several), keeping the unfinished last line; `end` returns it, with a "\n" added.
 * Bounded: never holds more than LINE_LIMIT bytes.
 */
export class LineSplitter {
  #partial: Buffer | undefined;

  constructor(private readonly limit = LINE_LIMIT) {}

  push(chunk: Buffer): Buffer {
    const data = this.#partial ? Buffer.concat([this.#partial, chunk]) : chunk;
    this.#partial = undefined;
    const lastNl = data.lastIndexOf(NL);
    let complete = lastNl < 0 ? data.subarray(0, 0) : data.subarray(0, lastNl + 1);
    let rest = data.subarray(lastNl + 1);
    // The unfinished line is cut once it reaches the limit: its first part is a line of its own.
    const pieces: Buffer[] = [];
    while (rest.length >= this.limit) {
      const cut = charBoundary(rest, this.limit);
      pieces.push(rest.subarray(0, cut), NEWLINE);
      rest = rest.subarray(cut);
    }
    if (rest.length > 0) this.#partial = Buffer.from(rest);
    if (hasLongLine(complete, this.limit)) complete = splitLongLines(complete, this.limit);
    return pieces.length === 0 ? complete : Buffer.concat([complete, ...pieces]);
  }

  /** The stream ended: its unterminated last line, as a line (empty when there is none). */
  end(): Buffer {
    const partial = this.#partial;
    this.#partial = undefined;
    return partial ? Buffer.concat([partial, NEWLINE]) : Buffer.alloc(0);
  }
}

const NEWLINE = Buffer.from('\n');

/** The largest cut <= `at` that does not fall inside a UTF-8 sequence (never 0). */
function charBoundary(buf: Buffer, at: number): number {
  let cut = at;
  // Continuation bytes are 10xxxxxx; a character is at most 4 bytes.
  while (cut > at - 3 && cut > 1 && ((buf[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}

/** Whether a line of `buf` (complete lines) is longer than `limit`: a window of limit + 1 bytes without a newline. */
function hasLongLine(buf: Buffer, limit: number): boolean {
  // Jumps from the last newline of each window: a few steps per chunk, however short its lines.
  for (let start = 0; buf.length - start > limit; ) {
    const nl = buf.lastIndexOf(NL, start + limit);
    if (nl < start) return true;
    start = nl + 1;
  }
  return false;
}

function splitLongLines(buf: Buffer, limit: number): Buffer {
  const out: Buffer[] = [];
  for (let start = 0; start < buf.length; ) {
    const nl = buf.indexOf(NL, start);
    const end = nl < 0 ? buf.length : nl;
    let line = buf.subarray(start, end);
    while (line.length > limit) {
      const cut = charBoundary(line, limit);
      out.push(line.subarray(0, cut), NEWLINE);
      line = line.subarray(cut);
    }
    out.push(line, NEWLINE);
    start = end + 1;
  }
  return Buffer.concat(out);
}

/** Calls `fn` with each line of `lines` (complete lines, each ending in "\n"), without the "\n" or a "\r" before it. */
export function forEachLine(lines: Buffer, fn: (line: string) => void): void {
  for (let start = 0; start < lines.length; ) {
    const nl = lines.indexOf(NL, start);
    const end = nl < 0 ? lines.length : nl;
    const stop = end > start && lines[end - 1] === 0x0d ? end - 1 : end;
    fn(lines.toString('utf8', start, stop));
    start = end + 1;
  }
}

/** The last `count` lines of `lines` (complete lines), as strings, oldest first. */
export function lastLines(lines: Buffer, count: number): string[] {
  const out: string[] = [];
  let end = lines.length - 1; // the final "\n"
  while (end >= 0 && out.length < count) {
    const nl = end === 0 ? -1 : lines.lastIndexOf(NL, end - 1);
    const stop = end > nl + 1 && lines[end - 1] === 0x0d ? end - 1 : end;
    out.push(lines.toString('utf8', nl + 1, stop));
    end = nl;
  }
  return out.reverse();
}

/** How many lines `lines` holds (complete lines). */
export function countLines(lines: Buffer): number {
  let n = 0;
  for (let i = lines.indexOf(NL); i >= 0; i = lines.indexOf(NL, i + 1)) n++;
  return n;
}

/**
 * The longest prefix of `lines` that is made of whole lines and at most `max` bytes long (at least one line, however
 * long), and the rest.
 */
export function takeLines(lines: Buffer, max: number): [Buffer, Buffer] {
  if (lines.length <= max) return [lines, lines.subarray(lines.length)];
  let cut = lines.lastIndexOf(NL, max - 1) + 1;
  if (cut === 0) cut = lines.indexOf(NL) + 1 || lines.length;
  return [lines.subarray(0, cut), lines.subarray(cut)];
}
