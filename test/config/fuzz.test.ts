import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectConfigFile } from '../../src/config/config-file.js';
import { MAX_CONFIG_FILE_BYTES } from '../../src/config/config-host.js';
import { parseVassalText } from '../../src/config/load-vassal.js';
import { renderConfig } from '../../src/config/show-config.js';
import { CORPUS_DIR, corpusFiles, SHARED_MISSING } from '../support/corpus.js';
import { fakeHost } from '../support/config-host.js';
import { tempDir } from '../support/temp-dir.js';

const TEXTS = corpusFiles().map((f) => readFileSync(path.join(CORPUS_DIR, f), 'utf8'));
const FILE = '/srv/vassals/fuzz.ini';

/** Fragments that reach every corner of the language: logic, includes (also of itself), references, magic. */
const FRAGMENTS = [
  '[uwsgi]', '[supervisor]', '[other]', '[uwsgi', '\n', '\r\n', '=', ';', '#', ' ', '\t', '%', '%%', '%(', ')', '%(_)', '%(x)', '%(a + b * 2)',
  '%(a ++)', '$(', '$(HOME)', '$(NOPE:-d)', '@(', '@(/srv/vassals/data)', '@(exec://id)', '%d', '%n', '%D', '%V', '${X}', 'for = a b c',
  'for-times = 3', 'for-times = 99999999', 'for-readline = data', 'for-glob = /srv/vassals/*', 'endfor', 'end-for =', 'if-env = HOME',
  'if-not-env = X', 'if-opt = a=1', 'if-exists = /srv', 'if-file = data', 'else', 'endif', 'end', 'ini = other.ini', 'ini = :uwsgi',
  'ini = fuzz.ini', 'ini = other.ini:extra', 'include = nope.ini', 'command = node app.js', 'socket = :3031', 'socket = a.sock',
  'processes = 4', 'strict = true', 'set-placeholder = a=1', 'a = %(b)', 'b = %(a)', 'emperor = /srv/vassals', 'vassals-include = other.ini',
  'vassal-set = processes=2', 'chmod-socket', 'notification-fd = 3', '<<<<<<< HEAD', '\u0000', '\uFEFF', '☃', '\uD800',
];

function mutationOf(fragments: readonly string[]) {
  return fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 8 })) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.nat({ max: 40 }) }),
    fc.record({ kind: fc.constant('line' as const), at: fc.nat(), text: fc.constantFrom(...fragments) }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 30 }) }),
  );
}

const mutation = mutationOf(FRAGMENTS);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, mutations: readonly Mutation[]): string {
  let out = text;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    if (m.kind === 'insert') out = out.slice(0, at) + m.text + out.slice(at);
    else if (m.kind === 'delete') out = out.slice(0, at) + out.slice(at + m.length);
    else {
      const lines = out.split('\n');
      const i = m.at % (lines.length + 1);
      if (m.kind === 'line') lines.splice(i, 0, m.text);
      else lines.splice(i, 0, ...Array<string>(m.times).fill(lines[i % lines.length] ?? ''));
      out = lines.join('\n');
    }
  }
  return out;
}

describe.skipIf(Boolean(SHARED_MISSING))(`the reader, fed mutated corpus files${SHARED_MISSING ?? ''}`, () => {
  it('only ever returns a config or config errors: never throws, never hangs', () => {
    let configs = 0;
    let errors = 0;
    fc.assert(
      fc.property(fc.nat({ max: TEXTS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 12 }), (index, mutations) => {
        const text = mutate(TEXTS[index]!, mutations);
        const other = mutate(TEXTS[(index + 1) % TEXTS.length]!, mutations.slice(0, 2));
        const host = fakeHost({ [FILE]: text, '/srv/vassals/other.ini': other, '/srv/vassals/data': 'x\ny\n' }, { env: { HOME: '/home/x' } });
        const started = performance.now();
        const result = parseVassalText(text, FILE, {
          host,
          defaults: { include: [{ path: '/srv/vassals/other.ini', source: { file: '/srv/emperor.ini', line: 1 } }], set: [{ key: 'vacuum', value: 'true', file: '/srv/emperor.ini', line: 2, bare: false }] },
        });
        const inspected = inspectConfigFile(FILE, host);
        const shown = renderConfig(inspected.entries, inspected.references, 'fuzz', inspected.tested);
        expect(performance.now() - started).toBeLessThan(5_000);
        expect(typeof shown).toBe('string');
        for (const d of [...result.diagnostics, ...inspected.diagnostics]) {
          expect(['error', 'warning', 'note']).toContain(d.severity);
          expect(typeof d.file).toBe('string');
          expect(d.message.length).toBeGreaterThan(0);
        }
        if (result.ok) {
          configs++;
          expect(result.config.command.length).toBeGreaterThan(0);
        } else {
          errors++;
          expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(true);
        }
      }),
      { numRuns: 3_000 },
    );
    // Both outcomes were exercised: the fragments include commands, and most uWSGI files have none.
    expect(configs).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  });
});

/**
 * Everything but a small regular file, in every place a config reads a file: the vassal file itself, `ini =`,
 * `@(file)`, `for-readline`, `for-glob`, `vassals-include`. The reads run in a worker thread with a deadline per
 * run, so that a read that blocks (as opening a FIFO did) fails the test with its input instead of hanging it.
 */
describe('the reader, given FIFOs, devices, directories, symlink loops and sockets wherever it reads a file', () => {
  let root: Awaited<ReturnType<typeof tempDir>> | undefined;
  let server: net.Server | undefined;
  let worker: Worker | undefined;

  afterEach(async () => {
    await worker?.terminate();
    if (server) await new Promise((resolve) => server!.close(resolve));
    await root?.remove();
    [root, server, worker] = [undefined, undefined, undefined];
  });

  it('finishes every run within its deadline with a config or config errors: never throws, never hangs', async () => {
    root = await tempDir('fuzz-kinds');
    const at = (name: string): string => path.join(root!.path, name);
    mkdirSync(at('dir'));
    mkdirSync(at('scan'));
    execFileSync('mkfifo', [at('fifo')]);
    symlinkSync('loop-b', at('loop-a'));
    symlinkSync('loop-a', at('loop-b'));
    writeFileSync(at('big'), Buffer.alloc(MAX_CONFIG_FILE_BYTES + 10, '#'));
    writeFileSync(at('data'), 'x\ny\n');
    writeFileSync(at('other.ini'), '[uwsgi]\ncommand = node other.js\n');
    server = net.createServer();
    await new Promise<void>((resolve) => server!.listen(at('sock'), resolve));
    const fifos = [at('fifo')];
    const kinds = [at('fifo'), '/dev/zero', '/dev/null', at('dir'), at('loop-a'), at('sock'), at('big'), at('nope')];
    const textFile = at('vassal.ini');
    const readable = [at('data'), at('other.ini')];
    const fragments = [...FRAGMENTS, ...[...kinds, ...readable].flatMap((k) => [`ini = ${k}`, `include = ${k}:uwsgi`, `env = X=@(${k})`, `for-readline = ${k}`, `for-glob = ${k}*`, `if-file = ${k}`, `env = %(_)`])];
    const kindMutation = mutationOf(fragments);
    const seeds = ['[uwsgi]\ncommand = node app.js\nprocesses = 2\n', `[uwsgi]\ncommand = node app.js\nini = ${at('other.ini')}\nfor-readline = ${at('data')}\nenv = L=%(_)\nendfor\n`, ...TEXTS];

    worker = new Worker(new URL('../support/config-reader-worker.mjs', import.meta.url));
    const replies = new Map<number, (reply: WorkerReply) => void>();
    worker.on('message', (m: WorkerReply & { ready?: boolean }) => replies.get(m.id)?.(m));
    await new Promise<void>((resolve, reject) => {
      worker!.once('message', () => resolve());
      worker!.once('error', reject);
    });

    let nextId = 0;
    let configs = 0;
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(kindMutation, { minLength: 1, maxLength: 8 }),
        fc.constantFrom(textFile, ...kinds),
        fc.subarray([...kinds, ...readable], { maxLength: 3 }),
        async (index, mutations, file, templates) => {
          const text = mutate(seeds[index]!, mutations);
          // The emperor's scan sees a vassal file of the same kind.
          rmSync(path.join(root!.path, 'scan', 'v.ini'), { force: true });
          symlinkSync(file, path.join(root!.path, 'scan', 'v.ini'));
          const id = nextId++;
          const reply = await new Promise<WorkerReply | undefined>((resolve) => {
            const timer = setTimeout(() => resolve(undefined), RUN_DEADLINE_MS);
            replies.set(id, (m) => {
              clearTimeout(timer);
              resolve(m);
            });
            worker!.postMessage({ id, file, text, templates, textFile, scanDir: path.join(root!.path, 'scan') });
          });
          replies.delete(id);
          if (!reply) {
            unblock(fifos);
            throw new Error(`a read did not finish within ${RUN_DEADLINE_MS} ms: file ${file}, templates ${templates.join(', ')}, text ${JSON.stringify(text.slice(0, 2000))}`);
          }
          expect(reply.threw).toBeUndefined();
          for (const result of reply.outcomes!) {
            for (const d of result.diagnostics) {
              expect(['error', 'warning', 'note']).toContain(d.severity);
              expect(typeof d.file).toBe('string');
              expect(d.message.length).toBeGreaterThan(0);
            }
            if (result.ok) configs++;
            else {
              errors++;
              expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(true);
            }
          }
          // Only a regular file is ever read as a vassal file; anything else is reported with its reason.
          const scanned = reply.scan!;
          const link = path.join(root!.path, 'scan', 'v.ini');
          if (file === textFile) expect(scanned.files).toEqual([link]);
          else expect(scanned.files).toEqual([]);
          if (file !== textFile && file !== at('nope')) expect(scanned.unreadable.map(([p]) => p)).toEqual([link]);
        },
      ),
      { numRuns: 400, endOnFailure: true },
    );
    expect(configs).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  });
});

/** Per run: the old code blocked for ever on a FIFO, or read /dev/zero until memory ran out. */
const RUN_DEADLINE_MS = 5_000;

interface WorkerReply {
  readonly id: number;
  readonly threw?: string;
  readonly outcomes?: { ok: boolean; diagnostics: { severity: string; file: string; message: string }[] }[];
  readonly scan?: { files: string[]; unreadable: [string, string][] };
}

/** Gives a reader blocked in open(2) on a FIFO its writer (and at once EOF), so a hung worker can be terminated. */
function unblock(fifos: readonly string[]): void {
  for (const fifo of fifos) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // No reader waiting.
    }
  }
}
