// systemd/supervisor-notify.service (Type=notify) played through: the test runs the unit's ExecStart= with
// NOTIFY_SOCKET naming a datagram socket of its own (what systemd's notify socket is), and reads what the emperor
// says there: READY=1, RELOADING=1 with MONOTONIC_USEC, STOPPING=1, STATUS=, WATCHDOG=1.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { DgramSocket as DgramSocketType } from 'node-unix-socket';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CLI, EmperorProcess, NODE } from '../support/emperor.js';
import { connects } from '../support/daemon.js';
import { freePort } from '../support/nginx.js';
import { sandbox } from '../support/sandbox.js';
import { serveIni } from '../support/serving.js';
import { execCommand, readUnit, REPO, unitValue, type PathMap } from '../support/systemd-unit.js';
import { isRoot } from '../support/test-users.js';

const { DgramSocket } = createRequire(import.meta.url)('node-unix-socket') as { DgramSocket: typeof DgramSocketType };

const skipReason = isRoot ? '' : ' [SKIPPED: needs root, as the unit runs the emperor]';
if (skipReason) console.warn(`Type=notify tests${skipReason}`);

const dir = sandbox('sv-notify');
const UNIT = readUnit(path.join(REPO, 'systemd/supervisor-notify.service'));

interface Message {
  readonly fields: Readonly<Record<string, string>>;
  /** CLOCK_MONOTONIC when it arrived, in microseconds (the clock MONOTONIC_USEC is on). */
  readonly atUsec: bigint;
  /** Wall clock when it arrived (ms), to compare with the emperor's log times. */
  readonly at: number;
}

/** systemd's side of sd_notify: a datagram socket that keeps every message, parsed. */
function notifyReceiver(socketPath: string): { messages: Message[]; onMessage?: (m: Message) => void; close(): void } {
  const socket = new DgramSocket();
  const receiver = {
    messages: [] as Message[],
    onMessage: undefined as ((m: Message) => void) | undefined,
    close: () => socket.close(),
  };
  socket.on('data', (buf: Buffer) => {
    const fields = Object.fromEntries(
      buf
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const message = { fields, atUsec: process.hrtime.bigint() / 1000n, at: Date.now() };
    receiver.messages.push(message);
    receiver.onMessage?.(message);
  });
  socket.bind(socketPath);
  return receiver;
}

let map: PathMap;
let webSocket: string;
let port: number;
let receiver: ReturnType<typeof notifyReceiver>;

beforeEach(async () => {
  if (!isRoot) return;
  chmodSync(dir.path, 0o755);
  const etc = dir.file('etc/supervisor');
  mkdirSync(path.join(etc, 'vassals'), { recursive: true, mode: 0o755 });
  mkdirSync(dir.file('run'), { mode: 0o755 });
  map = [
    ['/opt/supervisor/', REPO],
    ['/etc/supervisor/', `${etc}/`],
    ['/usr/bin/node', NODE],
  ];
  writeFileSync(path.join(etc, 'emperor.ini'), readFileSync(path.join(REPO, 'systemd/emperor.ini'), 'utf8').replaceAll('/run/supervisor/', `${dir.file('run')}/`));
  port = await freePort();
  webSocket = path.join(etc, 'vassals/web.sock');
  // Workers take a while to be ready, so that a reload's rolls take a while too.
  writeFileSync(path.join(etc, 'vassals/web.ini'), serveIni('web.sock', { env: 'STARTUP_DELAY_MS=700' }));
  writeFileSync(path.join(etc, 'vassals/api.ini'), serveIni(`127.0.0.1:${port}`));
  receiver = notifyReceiver(dir.file('notify.sock'));
  return () => receiver.close();
});

/** ExecStart= as systemd runs a Type=notify unit: in the foreground, with NOTIFY_SOCKET (and WATCHDOG_USEC) set. */
function execStart(env: Record<string, string> = {}): EmperorProcess {
  const argv = execCommand(UNIT, 'ExecStart', map);
  expect(argv.slice(0, 3)).toEqual([NODE, '--max-semi-space-size=1', CLI]);
  return new EmperorProcess(argv.slice(3), { env: { NOTIFY_SOCKET: dir.file('notify.sock'), ...env }, nodeArgs: argv.slice(1, 2) });
}

// STATUS= alone (the line kept current every 10 s) is not a state change: left out.
const kinds = (): string[] =>
  receiver.messages.map((m) => Object.keys(m.fields).filter((k) => k !== 'STATUS' && k !== 'MONOTONIC_USEC').join('+')).filter((k) => k !== '');

async function nextMessage(key: string, after = 0): Promise<Message> {
  return vi.waitFor(
    () => {
      const found = receiver.messages.slice(after).find((m) => key in m.fields);
      if (!found) throw new Error(`no ${key} yet; got ${kinds().join(', ')}`);
      return found;
    },
    { timeout: 60_000, interval: 20 },
  );
}

describe.skipIf(Boolean(skipReason))(`systemd/supervisor-notify.service, Type=notify${skipReason}`, () => {
  it('is Type=notify with ExecReload= (not notify-reload, which systemd 252 does not know), NotifyAccess=main and a watchdog', () => {
    expect(unitValue(UNIT, 'Service', 'Type')).toBe('notify');
    expect(unitValue(UNIT, 'Service', 'NotifyAccess')).toBe('main');
    expect(unitValue(UNIT, 'Service', 'WatchdogSec')).toMatch(/^\d+$/);
    expect(execCommand(UNIT, 'ExecReload', [], { MAINPID: '7' })).toEqual(['/usr/bin/node', '/opt/supervisor/bin/supervisor.js', '--reload', '7', '--wait']);
  });

  it('READY=1 (with STATUS=) once the sockets listen; ExecReload=: RELOADING=1 with MONOTONIC_USEC, then READY=1, and it returns once the rolls are done; KillSignal=: STOPPING=1', async () => {
    // What a client of the service would do the moment systemd says it is up: connect.
    let listening: Promise<unknown> | undefined;
    receiver.onMessage = (m) => {
      if (m.fields.READY && !listening) listening = Promise.all([connects({ path: webSocket }), connects({ host: '127.0.0.1', port })]);
    };
    const emperor = execStart();
    const ready = await nextMessage('READY');
    expect(ready.fields).toMatchObject({ READY: '1', STATUS: expect.stringMatching(/\S/) });
    await listening;
    await emperor.waitForLog((r) => r.event === 'vassal.ready' && r.vassal === 'web.ini', 60_000);

    const seen = receiver.messages.length;
    const before = process.hrtime.bigint() / 1000n;
    const reload = execCommand(UNIT, 'ExecReload', map, { MAINPID: String(emperor.pid) });
    const { execa } = await import('execa');
    // --wait: it finds the emperor's control socket by its pid (the default one, or its run directory's when another
    // emperor holds the default), and returns once every roll has ended, one line per vassal.
    const answer = await execa(reload[0]!, reload.slice(1));
    const answeredAt = Date.now();
    expect(answer.stdout.split('\n').sort()).toEqual(['api.ini: reloaded: runs generation 2', 'web.ini: reloaded: runs generation 2']);
    const reloading = await nextMessage('RELOADING', seen);
    expect(reloading.fields.RELOADING).toBe('1');
    // MONOTONIC_USEC: the emperor's CLOCK_MONOTONIC when it began the reload, between our asking and our hearing of it.
    const monotonic = BigInt(reloading.fields.MONOTONIC_USEC ?? '0');
    expect(monotonic >= before && monotonic <= reloading.atUsec).toBe(true);
    const reloaded = await nextMessage('READY', receiver.messages.indexOf(reloading) + 1);
    // The rolls are over by then: every worker of both vassals is ready (web.ini has 2, api.ini 2).
    expect(reloaded.fields.STATUS).toBe('2 vassals: 2 running; 4/4 workers ready');
    await vi.waitFor(() => expect(emperor.events('vassal.reloaded')).toHaveLength(2), { timeout: 60_000 });
    for (const r of emperor.events('vassal.reloaded')) expect(Date.parse(r.time as string)).toBeLessThanOrEqual(answeredAt);

    process.kill(emperor.pid, unitValue(UNIT, 'Service', 'KillSignal') as NodeJS.Signals);
    await nextMessage('STOPPING');
    expect(await emperor.exit(60_000)).toEqual({ code: 0, signal: undefined });
    expect(kinds()).toEqual(['READY', 'RELOADING', 'READY', 'STOPPING']);
  });

  // `systemctl reload` (and Type=notify-reload) returns at READY=1: it must mean the reload is over.
  it('after a reload, READY=1 comes only once every roll has finished', async () => {
    const emperor = execStart();
    await nextMessage('READY');
    await vi.waitFor(() => expect(emperor.events('vassal.ready')).toHaveLength(2), { timeout: 60_000 });
    emperor.child.kill('SIGHUP');
    const reloading = await nextMessage('RELOADING');
    const ready = await nextMessage('READY', receiver.messages.indexOf(reloading) + 1);
    // Every roll has ended by then: the emperor logged each vassal's vassal.reloaded before it said READY=1.
    await vi.waitFor(() => expect(emperor.events('vassal.reloaded')).toHaveLength(2), { timeout: 60_000 });
    for (const r of emperor.events('vassal.reloaded')) expect(Date.parse(r.time as string)).toBeLessThanOrEqual(ready.at);
  });

  it('WATCHDOG=1 every half WATCHDOG_USEC once up, so that systemd restarts an emperor whose loop stalls', async () => {
    const emperor = execStart({ WATCHDOG_USEC: '400000' });
    const ready = await nextMessage('READY');
    await vi.waitFor(() => expect(receiver.messages.filter((m) => m.fields.WATCHDOG).length).toBeGreaterThanOrEqual(6), { timeout: 60_000, interval: 50 });
    const pings = receiver.messages.filter((m) => m.fields.WATCHDOG);
    expect(pings.map((m) => m.fields.WATCHDOG)).toEqual(pings.map(() => '1'));
    expect(receiver.messages.indexOf(pings[0]!)).toBeGreaterThan(receiver.messages.indexOf(ready));
    // Every 200 ms (half of 400 ms): six take at least a second from READY=1 on. Received times are only a bound (the
    // datagrams wait in the socket while this process is busy), so the check is coarse: it catches a wrong unit.
    expect(Number(pings[5]!.atUsec - ready.atUsec) / 1000).toBeGreaterThan(600);
    emperor.child.kill('SIGTERM');
    expect(await emperor.exit(60_000)).toEqual({ code: 0, signal: undefined });
  });
});
