import { expect, vi } from 'vitest';
import { fixtureCommand, vassalIni } from './emperor.js';
import { get } from './http.js';

/** What the serve-on-fd3 fixture answers. */
export interface Answer {
  pid: number;
  worker: number;
  generation: number;
  greeting: string | null;
  fdnames: string;
  uid: number;
  gid: number;
  groups: number[];
  user: string | null;
  /** The fd the request came in on (3 for the first socket). */
  fd: number;
}

/** One request to a serve-on-fd3 worker; fails the test unless it answers 200. */
export async function ask(socketPath: string): Promise<Answer> {
  const answer = await get({ socketPath });
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body) as Answer;
}

/** One request to a serve-on-fd3 worker over TCP on 127.0.0.1; fails the test unless it answers 200. */
export async function askTcp(port: number): Promise<Answer> {
  const answer = await get({ host: '127.0.0.1', port });
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body) as Answer;
}

/** Waits until the socket answers, then returns the distinct worker pids seen over `requests` requests. */
export async function pidsAnswering(socketPath: string, requests = 20): Promise<Set<number>> {
  await vi.waitFor(() => ask(socketPath), { timeout: 20_000, interval: 50 });
  const pids = new Set<number>();
  for (let i = 0; i < requests; i++) pids.add((await ask(socketPath)).pid);
  return pids;
}

/** A vassal running the serve-on-fd3 fixture on `socket`, ready by notification fd. */
export function serveIni(socket: string, extra: Record<string, string | number | boolean | readonly (string | number)[]> = {}): string {
  return vassalIni({ command: fixtureCommand('serve-on-fd3'), processes: 2, socket, 'chmod-socket': 660, vacuum: true, 'notification-fd': 'auto', ...extra });
}
