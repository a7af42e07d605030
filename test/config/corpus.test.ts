import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { inspectConfigFile, type InspectedFile } from '../../src/config/config-file.js';
import type { Diagnostic } from '../../src/config/diagnostic.js';
import { CLI, NODE } from '../support/emperor.js';
import { CORPUS_DIR, corpusFiles, corpusHost, SHARED_MISSING } from '../support/corpus.js';

/** One corpus file as the expectation table records it. */
interface Expectation {
  readonly readAs: 'emperor' | 'vassal';
  readonly loads: boolean;
  /** `line: message` (prefixed with the file when the finding is in another file, e.g. an include). */
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  /** The uWSGI options reported as not applicable, in order. */
  readonly notApplicable: readonly string[];
}

function describeFile(file: string, inspected: InspectedFile): Expectation {
  const here = path.join(CORPUS_DIR, file);
  // Paths of this machine become <corpus>/ and <shared>/, so that the table holds wherever the clone is.
  const portable = (s: string): string => s.replaceAll(CORPUS_DIR, '<corpus>/').replaceAll(SHARED_DIR, '<shared>/');
  const text = (d: Diagnostic): string => {
    const where = d.file === here ? `${d.line ?? '-'}` : `${portable(d.file)}:${d.line ?? '-'}`;
    return `${where}: ${portable(d.message)}`;
  };
  const of = (severity: Diagnostic['severity']): Diagnostic[] => inspected.diagnostics.filter((d) => d.severity === severity);
  return {
    readAs: inspected.kind,
    loads: of('error').length === 0,
    errors: of('error').map(text),
    warnings: of('warning').map(text),
    notApplicable: of('note').map((d) => d.key ?? text(d)),
  };
}

const SHARED_DIR = path.resolve(CORPUS_DIR, '../..') + '/';
const files = corpusFiles();
const host = corpusHost();
const table = Object.fromEntries(files.map((f) => [f, describeFile(f, inspectConfigFile(path.join(CORPUS_DIR, f), host))]));

describe.skipIf(Boolean(SHARED_MISSING))(`the uWSGI corpus (../shared/corpus/uwsgi-ini)${SHARED_MISSING ?? ''}`, () => {
  it('has the 54 files the README describes', () => {
    expect(files).toHaveLength(54);
  });

  it('reads as the checked-in expectation table says (regenerate with: npx vitest run -u test/config/corpus.test.ts, then review the diff)', async () => {
    await expect(`${JSON.stringify(table, null, 2)}\n`).toMatchFileSnapshot('./corpus-expectations.json');
  });

  it('loads the emperor files that name a plain directory, and no uWSGI vassal file, since none has a command', () => {
    const loading = files.filter((f) => table[f]!.loads);
    expect(loading.every((f) => table[f]!.readAs === 'emperor')).toBe(true);
    const vassals = files.filter((f) => table[f]!.readAs === 'vassal');
    for (const f of vassals) expect(table[f]!.errors.join('\n'), f).toMatch(/no "command" option/);
  });

  it('catches the real mistakes the corpus README lists: merge-conflict markers, inline comments', () => {
    expect(table['39_1090146450_Vx_Django_uwsgi.ini']!.errors.filter((e) => e.includes('merge-conflict'))).toHaveLength(3);
    expect(table['45_CabbyWang_django-demo_uwsgi.ini']!.errors.find((e) => e.startsWith('7:'))).toMatch(/^7: invalid value for socket: .* uWSGI has no inline comments/);
    expect(table['46_Pysuper_Django-Template_uwsgi.ini']!.errors.filter((e) => e.includes('no inline comments'))).toHaveLength(10);
  });

  it('keeps log-format\'s own %(...) variables verbatim: no file has an error for them', () => {
    for (const f of ['14_Subscribie_subscribie_emperor.ini', '27_20tab_django-uwsgi-template_global.ini', '31_ministryofjustice_cla_backend_cla_backend.ini', '33_Dispatcharr_Dispatcharr_uwsgi.ini', '50_HelloJoyWu_da_system_uwsgi.ini']) {
      expect(table[f]!.errors.filter((e) => /%\((status|host|method|ftime|uri)\)/.test(e)), f).toEqual([]);
      expect(table[f]!.notApplicable).toContain(f.startsWith('31') ? 'logformat' : 'log-format');
    }
  });

  it('goes through the real supervisor --check without a crash: a summary per file, exit 1 (files have errors)', async () => {
    const result = await execa(NODE, [CLI, '--check', ...files], { cwd: CORPUS_DIR, reject: false, env: { PATH: process.env.PATH ?? '' }, extendEnv: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(1);
    const summaries = result.stdout.split('\n').filter((l) => / as an? (emperor|vassal) \(/.test(l));
    expect(summaries.map((l) => l.split(':')[0])).toEqual(files);
    for (const line of summaries) {
      const file = line.split(':')[0]!;
      expect(line.includes(': ok as '), line).toBe(table[file]!.loads);
    }
  });
});
