// Per-vassal log files: logto with several workers, rotation, reopen after an external rename (the way logrotate
// does it), timestamps and JSON read back, a full disk, log-direct, and the emperor's own log file.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { CLI, EmperorProcess, fixtureCommand, NODE, vassalIni } from '../support/emperor.js';
import { isAlive } from '../support/processes.js';
import { sandbox } from '../support/sandbox.js';
import { sleeperIni } from '../support/vassal-dir.js';

const dir = sandbox();

/** A vassal of chatter workers: each prints CHATTER_COUNT lines "<vassal> w<id> <stream> <n>" (0: for ever). */
function chatterIni(extra: Record<string, string | number | boolean | readonly string[]> = {}, env: Record<string, string | number> = {}): string {
  const envLines = Object.entries({ CHATTER_COUNT: 6, CHATTER_INTERVAL_MS: 10, ...env }).map(([k, v]) => `${k}=${v}`);
  return vassalIni({ command: fixtureCommand('chatter'), 'ready-after': 0, env: envLines, ...extra });
}

const read = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
const lines = (file: string): string[] => read(file).split('\n').filter(Boolean);

/** The files of a directory whose name starts with `prefix`, sorted with numbers as numbers (x.9 before x.10). */
const filesLike = (directory: string, prefix: string): string[] =>
  readdirSync(directory)
    .filter((n) => n.startsWith(prefix))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

/** The sequence numbers a worker printed, from lines "<vassal> w<id> <stream> <n>". */
const numbersOf = (text: string[], worker: number): number[] =>
  text.flatMap((l) => {
    const m = new RegExp(` w${worker} (?:stdout|stderr) (\\d+)`).exec(l);
    return m ? [Number(m[1])] : [];
  });

describe('logto', () => {
  it('puts the output of every worker of a vassal in its own file, created 0640, and none of it in the emperor\'s log', async () => {
    await mkdir(dir.file('logs'));
    await mkdir(dir.file('vassals'));
    await writeFile(dir.file('vassals/app.ini'), chatterIni({ processes: 2, logto: '%d../logs/%n.log' }));
    await writeFile(dir.file('vassals/other.ini'), chatterIni({ processes: 1 }));
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals')]);
    const file = dir.file('logs/app.log');
    await vi.waitFor(
      () => {
        const text = lines(file);
        expect(numbersOf(text, 1)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(numbersOf(text, 2)).toEqual([1, 2, 3, 4, 5, 6]);
      },
      { timeout: 20_000, interval: 50 },
    );
    // Both streams, as printed (plain).
    expect(lines(file)).toContain('app.ini w1 stdout 1');
    expect(lines(file)).toContain('app.ini w2 stderr 2');
    expect(statSync(file).mode & 0o7777).toBe(0o640);
    await vi.waitFor(() => expect(emperor.events('worker.output', 'other.ini')).toHaveLength(6), { timeout: 20_000 });
    expect(emperor.events('worker.output', 'app.ini')).toEqual([]);
  });

  it('rotates before log-maxsize is passed, to FILE.<unix time>, keeping log-backups rotated files', async () => {
    const file = dir.file('app.log');
    // 60 lines of 100 bytes, 1000 bytes per file: 10 lines a file, so 5 rotations at least.
    await writeFile(
      dir.file('app.ini'),
      chatterIni({ logto: file, 'log-maxsize': 1000, 'log-backups': 2 }, { CHATTER_COUNT: 60, CHATTER_SIZE: 100, CHATTER_INTERVAL_MS: 5 }),
    );
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await vi.waitFor(() => expect(numbersOf(lines(file), 1)).toContain(60), { timeout: 20_000, interval: 50 });
    const rotated = emperor.events('log.rotated', 'app.ini');
    expect(rotated.length).toBeGreaterThanOrEqual(5);
    const backups = filesLike(dir.path, 'app.log.');
    expect(backups).toHaveLength(2);
    for (const name of backups) expect(name).toMatch(/^app\.log\.\d{10,}(\.\d+)?$/);
    // Never past the limit, and nothing lost between the kept files: they hold the last lines, in order.
    const kept = [...backups.map((b) => dir.file(b)), file];
    for (const f of kept) expect(statSync(f).size).toBeLessThanOrEqual(1000);
    const all = kept.flatMap(lines);
    const numbers = numbersOf(all, 1).sort((a, b) => a - b);
    // The last 20 without a gap (at the pruned end a line of the other stream may have gone with the older file).
    expect(numbers.slice(-20)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));
    // In order within each stream (the worker alternates stdout and stderr, two pipes read independently: a line of
    // one may pass a line of the other).
    for (const stream of ['stdout', 'stderr']) {
      const ofStream = numbersOf(all.filter((l) => l.includes(` ${stream} `)), 1);
      expect(ofStream.length).toBeGreaterThan(5);
      expect(ofStream).toEqual([...ofStream].sort((a, b) => a - b));
    }
    expect(numbers.length).toBeGreaterThanOrEqual(21);
    // The older ones were pruned, and said so.
    expect(rotated.flatMap((r) => r.pruned as string[]).length).toBeGreaterThanOrEqual(3);
  });

  it('reopens after an external rename (what logrotate does): on SIGUSR2, and with supervisor --reopen-logs', async () => {
    const file = dir.file('app.log');
    await mkdir(dir.file('vassals'));
    await writeFile(dir.file('vassals/app.ini'), chatterIni({ logto: file }, { CHATTER_COUNT: 0, CHATTER_INTERVAL_MS: 20 }));
    const pidfile = dir.file('emperor.pid');
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--pidfile', pidfile]);
    await vi.waitFor(() => expect(numbersOf(lines(file), 1).length).toBeGreaterThan(3), { timeout: 20_000, interval: 50 });

    // logrotate without copytruncate: rename, then signal.
    await rename(file, `${file}.1`);
    process.kill(emperor.pid, 'SIGUSR2');
    await emperor.waitForLog((r) => r.event === 'log.reopened' && r.vassal === 'app.ini');
    await vi.waitFor(() => expect(numbersOf(lines(file), 1).length).toBeGreaterThan(3), { timeout: 20_000, interval: 50 });
    const before = numbersOf(lines(`${file}.1`), 1);
    const after = numbersOf(lines(file), 1);
    // Every line went to one file or the other, in order, none twice.
    expect(Math.max(...before)).toBeLessThan(Math.min(...after));
    expect([...before, ...after]).toEqual(Array.from({ length: before.length + after.length }, (_, i) => i + 1));

    await rename(file, `${file}.2`);
    const said = execFileSync(NODE, [CLI, '--reopen-logs', pidfile], { encoding: 'utf8' });
    expect(said).toContain(`sent SIGUSR2 to emperor ${emperor.pid}`);
    await vi.waitFor(() => expect(emperor.events('log.reopened', 'app.ini')).toHaveLength(2), { timeout: 20_000 });
    await vi.waitFor(() => expect(numbersOf(lines(file), 1).length).toBeGreaterThan(3), { timeout: 20_000, interval: 50 });
    expect(Math.max(...numbersOf(lines(`${file}.2`), 1))).toBeLessThan(Math.min(...numbersOf(lines(file), 1)));
    expect(emperor.events('emperor.signal').filter((r) => r.signal === 'SIGUSR2').map((r) => r.command)).toEqual(['reopen-logs', 'reopen-logs']);
  });

  it('writes timestamps (log-date, strftime) and JSON that read back, and splits a long line at 16 KiB', async () => {
    await writeFile(dir.file('json.ini'), chatterIni({ logto: dir.file('json.log'), 'worker-log-format': 'json' }, { CHATTER_COUNT: 2 }));
    await writeFile(dir.file('tagged.ini'), chatterIni({ logto: dir.file('tagged.log'), 'worker-log-format': 'tagged', 'log-date': '%%Y-%%m-%%d %%H:%%M:%%S' }, { CHATTER_COUNT: 2 }));
    await writeFile(dir.file('ctime.ini'), chatterIni({ logto: dir.file('ctime.log'), logdate: true }, { CHATTER_COUNT: 2 }));
    await writeFile(dir.file('long.ini'), chatterIni({ logto: dir.file('long.log') }, { CHATTER_COUNT: 1, CHATTER_SIZE: 40_000 }));
    const started = Date.now();
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await vi.waitFor(() => expect(lines(dir.file('json.log'))).toHaveLength(2), { timeout: 20_000, interval: 50 });
    const [pid] = emperor.spawnedPids('json.ini');
    const records = lines(dir.file('json.log')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => Object.keys(r))).toEqual([
      ['time', 'vassal', 'worker', 'pid', 'generation', 'stream', 'line'],
      ['time', 'vassal', 'worker', 'pid', 'generation', 'stream', 'line'],
    ]);
    expect(records[0]).toMatchObject({ vassal: 'json.ini', worker: 1, pid, generation: 1, stream: 'stdout', line: 'json.ini w1 stdout 1' });
    expect(records[1]).toMatchObject({ stream: 'stderr', line: 'json.ini w1 stderr 2' });
    const time = Date.parse(records[0]?.time as string);
    expect(time).toBeGreaterThanOrEqual(started - 1000);
    expect(time).toBeLessThanOrEqual(Date.now());

    await vi.waitFor(() => expect(lines(dir.file('tagged.log'))).toHaveLength(2), { timeout: 20_000, interval: 50 });
    const tagged = lines(dir.file('tagged.log')).map((l) => /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) - tagged\.ini\[1\] (stdout|stderr): (.*)$/.exec(l));
    expect(tagged.map((m) => m && [m[2], m[3]])).toEqual([
      ['stdout', 'tagged.ini w1 stdout 1'],
      ['stderr', 'tagged.ini w1 stderr 2'],
    ]);
    // strftime's local time, read back to within a minute of now.
    const [y, mo, d, h, mi, s] = (tagged[0]?.[1] ?? '').split(/[- :]/).map(Number) as number[];
    expect(Math.abs(new Date(y!, mo! - 1, d, h, mi, s).getTime() - Date.now())).toBeLessThan(60_000);

    await vi.waitFor(() => expect(lines(dir.file('ctime.log'))).toHaveLength(2), { timeout: 20_000, interval: 50 });
    for (const l of lines(dir.file('ctime.log'))) expect(l).toMatch(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} - ctime\.ini w1 std(out|err) \d$/);

    await vi.waitFor(() => expect(read(dir.file('long.log')).length).toBeGreaterThanOrEqual(40_000), { timeout: 20_000, interval: 50 });
    const long = read(dir.file('long.log')).split('\n');
    expect(long.map((l) => l.length)).toEqual([16_384, 16_384, 40_000 - 1 - 2 * 16_384, 0]);
  });

  it('a log on a full disk (/dev/full) is reported once; its worker is not held up, the emperor and the other vassals carry on', async () => {
    await writeFile(dir.file('full.ini'), chatterIni({ logto: '/dev/full' }, { CHATTER_COUNT: 0, CHATTER_INTERVAL_MS: 1 }));
    await writeFile(dir.file('other.ini'), sleeperIni());
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    const failed = await emperor.waitForLog((r) => r.event === 'log.write-failed' && r.vassal === 'full.ini');
    expect(failed).toMatchObject({ code: 'ENOSPC', file: '/dev/full' });
    await emperor.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'other.ini');
    // The loud worker keeps printing: its lines are dropped, not waited for.
    const [loud] = emperor.spawnedPids('full.ini');
    const written = (): number => Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${loud}/io`, 'utf8'))?.[1]);
    const first = written();
    await vi.waitFor(() => expect(written()).toBeGreaterThan(first + 10_000), { timeout: 20_000, interval: 100 });
    // The other vassal is supervised as ever.
    const [victim] = emperor.spawnedPids('other.ini');
    process.kill(victim!, 'SIGKILL');
    await vi.waitFor(() => expect(emperor.events('worker.ready', 'other.ini')).toHaveLength(2), { timeout: 20_000 });
    expect(isAlive(emperor.pid)).toBe(true);
    expect(emperor.events('log.write-failed')).toHaveLength(1);
  });

  it('log-direct: workers get the file itself; a reopen reaches the workers started after it', async () => {
    const file = dir.file('direct.log');
    await writeFile(dir.file('direct.ini'), chatterIni({ logto: file, 'log-direct': true }, { CHATTER_COUNT: 0, CHATTER_INTERVAL_MS: 20 }));
    const emperor = new EmperorProcess(['--emperor', dir.path]);
    await vi.waitFor(() => expect(numbersOf(lines(file), 1).length).toBeGreaterThan(2), { timeout: 20_000, interval: 50 });
    const [first] = emperor.spawnedPids('direct.ini');
    expect(readlinkSync(`/proc/${first}/fd/1`)).toBe(file);
    expect(readlinkSync(`/proc/${first}/fd/2`)).toBe(file);
    expect(emperor.events('worker.output')).toEqual([]);

    await rename(file, `${file}.1`);
    process.kill(emperor.pid, 'SIGUSR2');
    await emperor.waitForLog((r) => r.event === 'log.direct-reopened');
    // The running worker keeps the file it was given (now direct.log.1): the documented caveat.
    const size = statSync(`${file}.1`).size;
    await vi.waitFor(() => expect(statSync(`${file}.1`).size).toBeGreaterThan(size), { timeout: 20_000, interval: 50 });
    expect(read(file)).toBe('');
    // Its replacement gets the new file.
    process.kill(first!, 'SIGKILL');
    await vi.waitFor(() => expect(numbersOf(lines(file), 1).length).toBeGreaterThan(2), { timeout: 20_000, interval: 50 });
  });
});

describe('log options', () => {
  it('touch-logrotate rotates, touch-logreopen reopens, log-reopen reopens at a reload; logfile-chmod sets the mode', async () => {
    const file = dir.file('app.log');
    await writeFile(dir.file('rotate-now'), '');
    await writeFile(dir.file('reopen-now'), '');
    await mkdir(dir.file('vassals'));
    const ini = (gen: number): string =>
      chatterIni(
        { logto: file, 'touch-logrotate': dir.file('rotate-now'), 'touch-logreopen': dir.file('reopen-now'), 'log-reopen': true, 'logfile-chmod': 600 },
        { CHATTER_COUNT: 0, CHATTER_INTERVAL_MS: 20, GEN: gen },
      );
    await writeFile(dir.file('vassals/app.ini'), ini(1));
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals')]);
    await vi.waitFor(() => expect(lines(file).length).toBeGreaterThan(2), { timeout: 20_000, interval: 50 });
    expect(statSync(file).mode & 0o7777).toBe(0o600);

    await writeFile(dir.file('rotate-now'), 'x');
    const rotated = await emperor.waitForLog((r) => r.event === 'log.rotated' && r.vassal === 'app.ini');
    expect(rotated.renamedTo).toMatch(/app\.log\.\d{10,}$/);
    expect(statSync(rotated.renamedTo as string).size).toBeGreaterThan(0);

    await rename(file, dir.file('moved-1.log'));
    await writeFile(dir.file('reopen-now'), 'x');
    await emperor.waitForLog((r) => r.event === 'log.reopened' && r.vassal === 'app.ini');
    await vi.waitFor(() => expect(lines(file).length).toBeGreaterThan(0), { timeout: 20_000, interval: 50 });

    // A reload (the file changed) reopens too, with log-reopen.
    await rename(file, dir.file('moved-2.log'));
    await writeFile(dir.file('vassals/app.ini'), ini(2));
    await vi.waitFor(() => expect(emperor.events('log.reopened', 'app.ini')).toHaveLength(2), { timeout: 20_000 });
    await vi.waitFor(() => expect(lines(file).length).toBeGreaterThan(0), { timeout: 20_000, interval: 50 });
  });

  it('refuses what cannot work, at file:line: logto with logto2, log-direct with rotation or formats, a UDP address', async () => {
    await writeFile(dir.file('both.ini'), chatterIni({ logto: dir.file('a.log'), logto2: dir.file('b.log') }));
    await writeFile(dir.file('direct.ini'), chatterIni({ logto: dir.file('a.log'), 'log-direct': true, 'log-maxsize': 1000 }));
    await writeFile(dir.file('udp.ini'), chatterIni({ logto: '192.168.0.1:1717' }));
    const check = spawnSync(NODE, [CLI, '--check', dir.file('both.ini'), dir.file('direct.ini'), dir.file('udp.ini')], { encoding: 'utf8' });
    expect(check.status).toBe(1);
    const said = `${check.stdout}${check.stderr}`;
    const at = (name: string, key: string): string => `${dir.file(name)}:${read(dir.file(name)).split('\n').findIndex((l) => l.startsWith(`${key} =`)) + 1}`;
    expect(said).toContain(`${at('both.ini', 'logto2')}: error: logto and logto2 both set: choose one`);
    expect(said).toContain(`${at('direct.ini', 'log-maxsize')}: error: log-maxsize needs the emperor to write the file, but log-direct gives the workers the file itself`);
    expect(said).toContain(`${at('udp.ini', 'logto')}: error: invalid value for logto: "192.168.0.1:1717" has a ':', which uWSGI reads as a UDP address`);
  });
});

describe("the emperor's own log file", () => {
  it('logfile-chmod on the emperor sets its log file\'s mode, at creation and on an existing file', async () => {
    await mkdir(dir.file('vassals'));
    await writeFile(dir.file('vassals/app.ini'), chatterIni());
    const created = dir.file('created.log');
    const existing = dir.file('existing.log');
    await writeFile(existing, '', { mode: 0o666 });
    for (const [file, mode] of [[created, '600'], [existing, '620']] as const) {
      const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--logto', file, '--logfile-chmod', mode]);
      await vi.waitFor(() => expect(read(file)).toContain('"event":"worker.output"'), { timeout: 20_000, interval: 50 });
      expect((statSync(file).mode & 0o7777).toString(8)).toBe(mode);
      process.kill(emperor.pid, 'SIGTERM');
      await emperor.exit();
    }
  });

  it('logto on the emperor: created 0640, rotated at log-maxsize, reopened on SIGUSR2; nothing on stdout', async () => {
    await mkdir(dir.file('vassals'));
    await writeFile(dir.file('vassals/app.ini'), chatterIni({}, { CHATTER_COUNT: 0, CHATTER_INTERVAL_MS: 5, CHATTER_SIZE: 100 }));
    const file = dir.file('emperor.log');
    const emperor = new EmperorProcess(['--emperor', dir.file('vassals'), '--logto', file, '--log-maxsize', '20000', '--log-backups', '1']);
    await vi.waitFor(() => expect(filesLike(dir.path, 'emperor.log.')).toHaveLength(1), { timeout: 30_000, interval: 100 });
    expect(statSync(file).mode & 0o7777).toBe(0o640);
    await vi.waitFor(() => expect(read(file)).toContain('"event":"log.rotated"'), { timeout: 20_000, interval: 100 });
    for (const f of [file, dir.file(filesLike(dir.path, 'emperor.log.')[0]!)]) expect(statSync(f).size).toBeLessThanOrEqual(20_000);

    await rename(file, dir.file('renamed.log'));
    process.kill(emperor.pid, 'SIGUSR2');
    await vi.waitFor(() => expect(read(file)).toContain('"event":"log.reopened"'), { timeout: 20_000, interval: 100 });
    expect(read(dir.file('renamed.log'))).toContain('"event":"worker.output"');
    expect(read(dir.file('renamed.log'))).not.toContain('"event":"log.reopened"');
    expect(emperor.records).toEqual([]);
    // A clean stop writes every record out.
    process.kill(emperor.pid, 'SIGTERM');
    await emperor.exit();
    expect(read(file).trim().split('\n').at(-1)).toContain('"event":"emperor.stopped"');
  });
});
