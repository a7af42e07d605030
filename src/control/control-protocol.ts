/**
 * The control socket's protocol: newline-delimited JSON. A client sends one request line; the emperor answers with
 * one JSON line per message and closes the connection when the command is done (`logs` with `follow` streams until
 * the client closes). Every answer's first line has `ok`: true, or false with `error`. Pure.
 *
 * Requests:
 * - `{"command":"status"}` -> `{"ok":true,"snapshot":{...}}` (snapshot.ts)
 * - `{"command":"metrics"}` -> `{"ok":true,"metrics":"# HELP ..."}` (Prometheus text)
 * - `{"command":"reload","vassal":"NAME","wait":true}` (no `vassal`: all of them) -> `{"ok":...,"results":[...]}`
 *   once the rolls are done or failed (`wait: false`: once the files are read and the rolls started)
 * - `{"command":"restart-worker","vassal":"NAME","worker":2,"force":false}` -> `{"ok":...,"pid":...}`
 * - `{"command":"reopen-logs"}`, `{"command":"stop"}` -> `{"ok":true,...}` once done
 * - `{"command":"logs","vassal":"NAME","lines":50,"follow":true}` -> `{"ok":true,...}`, then one
 *   `{"line":{...}}` per line (the last ones kept, then new ones), and `{"dropped":N}` when the client reads too
 *   slowly to keep up.
 */
export type ControlRequest =
  | { readonly command: 'status' }
  | { readonly command: 'metrics' }
  | { readonly command: 'reload'; readonly vassal?: string; readonly wait: boolean }
  | { readonly command: 'restart-worker'; readonly vassal: string; readonly worker: number; readonly force: boolean }
  | { readonly command: 'reopen-logs' }
  | { readonly command: 'stop' }
  | { readonly command: 'logs'; readonly vassal: string; readonly lines: number; readonly follow: boolean };

export type CommandName = ControlRequest['command'];

/** A request line longer than this is refused (a request is a few dozen bytes). */
export const MAX_REQUEST_BYTES = 4096;

/** How many kept lines `logs` sends by default, and at most. */
export const DEFAULT_LOG_LINES = 50;
export const MAX_LOG_LINES = 10_000;

type Fields = Readonly<Record<string, unknown>>;

const FIELDS: Readonly<Record<CommandName, readonly string[]>> = {
  status: [],
  metrics: [],
  reload: ['vassal', 'wait'],
  'restart-worker': ['vassal', 'worker', 'force'],
  'reopen-logs': [],
  stop: [],
  logs: ['vassal', 'lines', 'follow'],
};

/** Reads one request line. Unknown commands and fields, and fields of the wrong type, are errors (with the reason). */
export function parseRequest(line: string): ControlRequest | { readonly error: string } {
  if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) return { error: `request longer than ${MAX_REQUEST_BYTES} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { error: 'a request is one line of JSON, such as {"command":"status"}' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { error: 'a request is a JSON object, such as {"command":"status"}' };
  const fields = parsed as Fields;
  const command = fields.command;
  if (typeof command !== 'string' || !Object.hasOwn(FIELDS, command)) {
    return { error: `unknown command ${JSON.stringify(command)}; commands: ${Object.keys(FIELDS).join(', ')}` };
  }
  const name = command as CommandName;
  const unknown = Object.keys(fields).filter((k) => k !== 'command' && !FIELDS[name].includes(k));
  if (unknown.length > 0) return { error: `${name} takes no field ${unknown.map((k) => JSON.stringify(k)).join(', ')}` };
  try {
    switch (name) {
      case 'status':
      case 'metrics':
      case 'reopen-logs':
      case 'stop':
        return { command: name };
      case 'reload': {
        const vassal = optionalString(fields, 'vassal');
        return { command: name, ...(vassal !== undefined ? { vassal } : {}), wait: optionalBoolean(fields, 'wait') ?? true };
      }
      case 'restart-worker': {
        const worker = fields.worker;
        if (typeof worker !== 'number' || !Number.isInteger(worker) || worker < 1) throw new FieldError('worker must be a worker id, a whole number from 1');
        return { command: name, vassal: requiredString(fields, 'vassal'), worker, force: optionalBoolean(fields, 'force') ?? false };
      }
      case 'logs': {
        const lines = fields.lines ?? DEFAULT_LOG_LINES;
        if (typeof lines !== 'number' || !Number.isInteger(lines) || lines < 0 || lines > MAX_LOG_LINES) throw new FieldError(`lines must be a whole number from 0 to ${MAX_LOG_LINES}`);
        return { command: name, vassal: requiredString(fields, 'vassal'), lines, follow: optionalBoolean(fields, 'follow') ?? false };
      }
    }
  } catch (err) {
    if (err instanceof FieldError) return { error: `${name}: ${err.message}` };
    throw err;
  }
}

class FieldError extends Error {}

function optionalString(fields: Fields, key: string): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new FieldError(`${key} must be a non-empty string`);
  return value;
}

function requiredString(fields: Fields, key: string): string {
  const value = optionalString(fields, key);
  if (value === undefined) throw new FieldError(`${key} is required`);
  return value;
}

function optionalBoolean(fields: Fields, key: string): boolean | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new FieldError(`${key} must be true or false`);
  return value;
}

/**
 * Finds the vassal file a name given by an operator means: a vassal's name (its file name, `app.ini`), its full
 * path, or its name without the extension (`app`) when that is unique. Two files of one name in different
 * directories must be told apart by path. Pure.
 */
export function findVassalFile(name: string, files: readonly { readonly name: string; readonly file: string }[]): { readonly file: string } | { readonly error: string } {
  const byPath = files.find((f) => f.file === name);
  if (byPath) return { file: byPath.file };
  let matches = files.filter((f) => f.name === name);
  if (matches.length === 0) matches = files.filter((f) => stem(f.name) === name);
  const unique = [...new Set(matches.map((f) => f.file))];
  if (unique.length === 1) return { file: unique[0] as string };
  if (unique.length > 1) return { error: `${JSON.stringify(name)} names ${unique.length} vassals: ${unique.join(', ')}; give the full path` };
  const known = files.map((f) => f.name).sort();
  return { error: `no vassal ${JSON.stringify(name)}${known.length ? `; vassals: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''}` : ' (the emperor has none)'}` };
}

function stem(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
