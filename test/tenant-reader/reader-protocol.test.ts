import { describe, expect, it } from 'vitest';
import { readVassalText } from '../../src/config/config-reader.js';
import { formatDiagnostic } from '../../src/config/diagnostic.js';
import { buildFromRead, NO_DEFAULTS, parseVassalText } from '../../src/config/load-vassal.js';
import { decodeReplies, decodeReply, plain, RecordingReferences, ReplayedReferences, type ReaderReply } from '../../src/tenant-reader/reader-protocol.js';
import { fakeHost } from '../support/config-host.js';

const FILE = '/srv/vassals/app.ini';
const TEXT = [
  '[uwsgi]',
  'ini = common.ini',
  'command = node %(app) --port $(PORT:-8000)',
  'app = server.js',
  'env = TOKEN=@(token)',
  'for = a b',
  'env = X_%(_)=1',
  'endfor =',
  'typo-option = 1',
].join('\n');
const FILES = { '/srv/vassals/common.ini': '[uwsgi]\nprocesses = 3\n', '/srv/vassals/token': 's3cret\n' };

/** What a reader does: read, then build with recorded expansions; the reply as JSON text. */
function readerReply(text = TEXT): string {
  const host = fakeHost(FILES, { env: { PORT: '9000' } });
  const read = readVassalText(text, FILE, host, NO_DEFAULTS);
  const references = new RecordingReferences(read.entries, host);
  buildFromRead(read, FILE, references);
  return JSON.stringify(plain({ read, expansions: references.expansions, checks: [], observations: [] }));
}

/** What the emperor does with a reply: decode it, build from it without reading anything. */
function emperorBuild(json: unknown): ReturnType<typeof buildFromRead> {
  const reply = decodeReply(json);
  if (!reply.ok) throw new Error(reply.reason);
  return buildFromRead(reply.value.read, FILE, new ReplayedReferences(reply.value.read.entries, reply.value.expansions));
}

describe('the reader\'s reply', () => {
  it('builds the same config, with the same findings, as reading in-process', () => {
    const inProcess = parseVassalText(TEXT, FILE, { host: fakeHost(FILES, { env: { PORT: '9000' } }) });
    const replayed = emperorBuild(JSON.parse(readerReply()));
    expect(replayed).toEqual(inProcess);
    expect(replayed.ok && replayed.config.env).toEqual({ TOKEN: 's3cret', X_a: '1', X_b: '1' });
    expect(replayed.ok && replayed.config.command).toEqual(['node', 'server.js', '--port', '9000']);
    expect(replayed.diagnostics.map(formatDiagnostic)).toEqual([`${FILE}:9: warning: unknown option "typo-option"`]);
  });

  it('is rebuilt by the emperor\'s own parser: a forged value is validated as if the tenant had written it', () => {
    const forged = JSON.parse(readerReply()) as { read: { entries: { key: string }[] }; expansions: ({ value: string } | null)[] };
    const i = forged.read.entries.findIndex((e) => e.key === 'processes');
    forged.expansions[i] = { value: '0', problems: [] } as never;
    const result = emperorBuild(forged);
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map(formatDiagnostic).join('\n')).toMatch(/common\.ini:2: error: invalid value for processes/);
  });

  it('never lets the emperor read: a value the reader did not expand is an error, not a read as root', () => {
    const forged = JSON.parse(readerReply()) as { expansions: unknown[] };
    forged.expansions = forged.expansions.map(() => null);
    const result = emperorBuild(forged);
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map(formatDiagnostic)).toContain(
      `${FILE}:3: error: invalid value for command: the reader running as the file's owner did not expand this value`,
    );
  });

  it('is refused when its shape is wrong, with the reason', () => {
    const good = JSON.parse(readerReply()) as Record<string, unknown> & { read: Record<string, unknown> & { entries: Record<string, unknown>[] } };
    const cases: [string, (r: typeof good) => unknown][] = [
      ['not a reader reply', () => 42],
      ['read.sectionFound is not a boolean', (r) => ({ ...r, read: { ...r.read, sectionFound: 'yes' } })],
      ['read.entries[0].line is not a line number', (r) => ({ ...r, read: { ...r.read, entries: [{ ...r.read.entries[0], line: -1 }, ...r.read.entries.slice(1)] } })],
      ['read.entries[0].baseDir is not an absolute path', (r) => ({ ...r, read: { ...r.read, entries: [{ ...r.read.entries[0], baseDir: 'rel' }, ...r.read.entries.slice(1)] } })],
      ['read.entries[0].key is not a string', (r) => ({ ...r, read: { ...r.read, entries: [{ ...r.read.entries[0], key: { toString: 1 } }, ...r.read.entries.slice(1)] } })],
      ['expansions for', (r) => ({ ...r, expansions: [] })],
      ['read.entries has 50001 items, more than 50000', (r) => ({ ...r, read: { ...r.read, entries: Array.from({ length: 50_001 }, () => r.read.entries[0]) } })],
      ['checks[0].severity is not one of error, warning, note', (r) => ({ ...r, checks: [{ severity: 'fatal', file: FILE, message: 'x' }] })],
      ['read.diagnostics is not a list', (r) => ({ ...r, read: { ...r.read, diagnostics: 'none' } })],
    ];
    for (const [reason, forge] of cases) {
      const decoded = decodeReply(forge(structuredClone(good)));
      expect(decoded.ok, reason).toBe(false);
      expect(!decoded.ok && decoded.reason, reason).toContain(reason);
    }
  });

  it('keeps the findings\' external flag, and nothing else they might carry', () => {
    const reply = JSON.parse(readerReply()) as ReaderReply & Record<string, unknown>;
    const check = { severity: 'error', file: FILE, line: 3, key: 'chdir', message: 'chdir /x: permission denied for uid 1000', external: true, extra: 'ignored' };
    const decoded = decodeReply({ ...reply, checks: [check] });
    expect(decoded.ok && decoded.value.checks).toEqual([{ severity: 'error', file: FILE, line: 3, key: 'chdir', message: 'chdir /x: permission denied for uid 1000', external: true }]);
  });

  it('comes as one item per file asked for; a file the reader could not read is a failure of that file only', () => {
    const one = JSON.parse(readerReply()) as unknown;
    const decoded = decodeReplies({ replies: [one, { failure: 'x'.repeat(5000) }] }, 2);
    expect(decoded.ok && decoded.value.map((r) => r.ok)).toEqual([true, false]);
    expect(decoded.ok && !decoded.value[1]!.ok && decoded.value[1]!.reason.length).toBe(1000);
    expect(decodeReplies({ replies: [one] }, 2)).toEqual({ ok: false, reason: '1 replies for 2 files' });
    expect(decodeReplies([one], 1)).toEqual({ ok: false, reason: 'not a reader reply' });
  });
});
