import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectConfigFile } from '../../src/config/config-file.js';
import { formatDiagnostic } from '../../src/config/diagnostic.js';
import { corpusHost, SEEDS_DIR, SHARED_MISSING } from '../support/corpus.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The ini examples of the deployment guides in ../shared/seeds, taken from the guides' text (fenced blocks, by
 * their index among the ``` fences) and written as the files the guides tell the reader to create.
 */
const EXAMPLES: readonly { guide: string; file: string; blocks: readonly number[] }[] = [
  { guide: '000_4d638b6e1d03a568.txt', file: 'flaskr/flaskr.ini', blocks: [25] },
  { guide: '001_1265b078ffa2e0c8.txt', file: 'app/wsgi.ini', blocks: [7] },
  // The guide builds codingpy.ini in five steps; the file is their concatenation.
  { guide: '002_c5bb4f59d98df905.txt', file: 'codingpy/codingpy.ini', blocks: [25, 27, 29, 31, 33] },
  { guide: '003_b3e2a1973641a9fc.txt', file: 'etc/emperor.ini', blocks: [5] },
  { guide: '003_b3e2a1973641a9fc.txt', file: 'etc/vassals/skycmdb.ini', blocks: [7] },
  { guide: '004_4099ed2386f421d5.txt', file: 'study3/uwsgi.ini', blocks: [1] },
];

let dir: { path: string; remove: () => Promise<void> };
const findings = new Map<string, string[]>();
const kinds = new Map<string, string>();

beforeAll(async () => {
  if (SHARED_MISSING) return;
  dir = await tempDir('seed');
  for (const example of EXAMPLES) {
    const fences = (await readFile(path.join(SEEDS_DIR, example.guide), 'utf8')).split(/^```.*$/m);
    const text = example.blocks.map((i) => fences[i]!.replace(/^\n/, '')).join('');
    const file = path.join(dir.path, example.file);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  // codingpy.ini reads its environment from .envs in the project directory, as the guide describes.
  await writeFile(path.join(dir.path, 'codingpy/.envs'), 'FLASK_CONFIG=production\nDATABASE_URL=postgresql://localhost/codingpy\n');
  for (const example of EXAMPLES) {
    const inspected = inspectConfigFile(path.join(dir.path, example.file), corpusHost());
    findings.set(example.file, inspected.diagnostics.map((d) => formatDiagnostic(d).replace(`${dir.path}/${example.file}`, '')));
    kinds.set(example.file, inspected.kind);
  }
});

afterAll(() => dir?.remove());

const NOTE_KEY = /^:\d+: note: (?:option )?"([^"]+)"/;
const notApplicable = (file: string): string[] => findings.get(file)!.flatMap((d) => NOTE_KEY.exec(d)?.[1] ?? []);
const others = (file: string): string[] => findings.get(file)!.filter((d) => !NOTE_KEY.test(d) && !d.includes('runs as a uWSGI app'));
/** The note that says the file runs with uWSGI: its trigger line and what the emperor takes over. */
const runsWithUwsgi = (file: string): string | undefined => {
  const note = findings.get(file)!.find((d) => d.includes('runs as a uWSGI app'));
  return note && `${/^:(\d+):/.exec(note)![1]} ${/\(([^)]+)\)/.exec(note)![1]}; takes over ${/the emperor takes over ([^;]+);/.exec(note)![1]}`;
};

describe.skipIf(Boolean(SHARED_MISSING))(`the ini examples of the deployment guides (../shared/seeds)${SHARED_MISSING ?? ''}`, () => {
  it('flaskr.ini (000) runs with uWSGI as written: its module, master, die-on-term are uWSGI\'s; the emperor takes over its socket', () => {
    const file = 'flaskr/flaskr.ini';
    expect(runsWithUwsgi(file)).toBe('2 module; takes over master, socket, chmod-socket, vacuum');
    expect(notApplicable(file)).toEqual([]);
    expect(others(file)).toEqual([]);
  });

  it('wsgi.ini (001): the inline ";" comments after the sockets are errors that explain why; daemonize logs instead of forking', () => {
    const file = 'app/wsgi.ini';
    expect(runsWithUwsgi(file)).toBe('2 module; takes over master, http-socket, socket, chmod-socket, vacuum');
    expect(others(file)).toEqual([
      ':9: error: invalid value for http-socket: a socket address has no spaces, got "127.0.0.1:30001 ;本地http测试端口". uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own',
      ':10: error: invalid value for socket: a socket address has no spaces, got "127.0.0.1:30000 ; nginx转发地址". uWSGI has no inline comments: everything after "=" is the value; put the comment on a line of its own',
      ':16: note: daemonize: under the emperor uWSGI logs to ./log/uwsgi.log instead of forking away, as under its own emperor',
    ]);
  });

  it('codingpy.ini (002) runs with uWSGI: for-readline reads .envs into env lines; gevent, async and threads are uWSGI\'s', () => {
    const file = 'codingpy/codingpy.ini';
    expect(runsWithUwsgi(file)).toBe('2 module; takes over master, socket, chmod-socket, vacuum');
    expect(notApplicable(file)).toEqual([]);
    expect(others(file)).toEqual([]);
  });

  it('emperor.ini (003) loads as an emperor; uid/gid are the vassals\' default account (the emperor keeps root), daemonize is real, "ture" in uWSGI-only options is not parsed, workers belongs in a vassal', () => {
    const file = 'etc/emperor.ini';
    expect(kinds.get(file)).toBe('emperor');
    expect(notApplicable(file)).toEqual(['enable-threads', 'master']);
    expect(others(file)).toEqual([
      ':6: note: uid/gid on the emperor are the account of every vassal that names none (not in tyrant mode, where a file\'s owner decides); the emperor itself keeps root, to bind sockets and start each vassal as its own user, where uWSGI\'s emperor drops to this account. No worker runs as root unless its vassal asks for it',
      ':11: warning: option "workers" belongs in a vassal file; ignored here',
    ]);
  });

  it('skycmdb.ini (003), the vassal of that emperor, runs with uWSGI; the emperor applies its socket, uid and gid', () => {
    const file = 'etc/vassals/skycmdb.ini';
    expect(runsWithUwsgi(file)).toBe('12 wsgi-file; takes over socket, uid, gid');
    expect(others(file)).toEqual([]);
  });

  it('uwsgi.ini (004) runs with uWSGI: callable, pythonpath and threads are uWSGI\'s, daemonize logs, pidfile is uWSGI\'s', () => {
    const file = 'study3/uwsgi.ini';
    expect(runsWithUwsgi(file)).toBe('4 module; takes over socket');
    expect(others(file)).toEqual([
      ':9: note: daemonize: under the emperor uWSGI logs to /home/ubuntu/Github/python_study/flask/study3/server.log instead of forking away, as under its own emperor',
    ]);
  });

  it('load with only notes and the lifecycle options once a command is added, as the error suggests', async () => {
    const vassals = EXAMPLES.filter((e) => !e.file.includes('emperor') && !e.file.startsWith('app/'));
    expect(vassals).toHaveLength(4);
    for (const { file } of vassals) {
      const full = path.join(dir.path, file);
      const withCommand = path.join(path.dirname(full), `with-command-${path.basename(full)}`);
      await writeFile(withCommand, `${await readFile(full, 'utf8')}\ncommand = uwsgi --plugin python3 --module wsgi:app\n`);
      const inspected = inspectConfigFile(withCommand, corpusHost());
      const unexpected = inspected.diagnostics.filter((d) => d.severity === 'error' || (d.severity === 'warning' && !/"(die-on-term|daemonize|uid|gid|logto|pidfile)"|^daemonize in a vassal/.test(d.message)));
      expect(unexpected.map(formatDiagnostic), file).toEqual([]);
      expect(inspected.diagnostics.filter((d) => d.severity === 'note').length, file).toBeGreaterThan(0);
    }
  });
});
