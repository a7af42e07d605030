import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectConfigFile } from '../../src/config/config-file.js';
import { parseVassalText } from '../../src/config/load-vassal.js';
import { renderConfig } from '../../src/config/show-config.js';
import { CORPUS_DIR, corpusFiles, SHARED_MISSING } from '../support/corpus.js';
import { fakeHost } from '../support/config-host.js';

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

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 8 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.nat({ max: 40 }) }),
  fc.record({ kind: fc.constant('line' as const), at: fc.nat(), text: fc.constantFrom(...FRAGMENTS) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 30 }) }),
);

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
