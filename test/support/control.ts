import net from 'node:net';
import { execa } from 'execa';
import { CLI, NODE } from './emperor.js';

/** A message of the control socket's answer (one JSON line). */
export type Answer = Record<string, unknown> & { ok?: boolean; error?: string };

/**
 * Sends one raw request line to a control socket and collects the answer's JSON lines until the emperor closes the
 * connection, or until `until` says enough (then this side closes). Written against the wire format, not our client.
 */
export function ask(socket: string, request: object | string, options: { until?: (answers: Answer[]) => boolean; timeoutMs?: number } = {}): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    const answers: Answer[] = [];
    let buffer = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`no complete answer from ${socket} within ${options.timeoutMs ?? 60_000} ms; got ${JSON.stringify(answers)}`));
    }, options.timeoutMs ?? 60_000);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(typeof request === 'string' ? request : `${JSON.stringify(request)}\n`));
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        answers.push(JSON.parse(buffer.slice(0, end)) as Answer);
        buffer = buffer.slice(end + 1);
      }
      if (options.until?.(answers)) conn.destroy();
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('close', () => {
      clearTimeout(timer);
      resolve(answers);
    });
  });
}

/** `supervisor ARGS...` (the real CLI), as root or as `user`, with its exit code and output. */
export async function cli(args: readonly string[], options: { user?: { uid: number; gid: number }; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const drop = options.user ? ['/usr/bin/setpriv', '--reuid', String(options.user.uid), '--regid', String(options.user.gid), '--init-groups', '--'] : [];
  const argv = [...drop, NODE, CLI, ...args];
  const result = await execa(argv[0] as string, argv.slice(1), { reject: false, env: options.env, timeout: 60_000 });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
