import { readFileSync, writeFileSync } from 'node:fs';

/**
 * A session's autogroup (sched(7), `/proc/PID/autogroup`): with autogroups on (the Linux default where
 * CONFIG_SCHED_AUTOGROUP is built), every session is one scheduling group, and a thread's nice value only weighs
 * inside its group. So a process that must yield the CPU to others in their own sessions needs its group's nice
 * lowered, not only its own.
 */

/** CAP_SYS_ADMIN's bit in /proc/PID/status CapEff (capabilities(7)). */
const CAP_SYS_ADMIN = 21n;

/**
 * Whether autogroup changes are rate-limited for this process: autogroups exist and it lacks CAP_SYS_ADMIN (root in
 * a container with the default capabilities). Then the kernel takes one change per 100 ms for the whole system
 * (EAGAIN otherwise).
 */
export function autogroupRateLimited(): boolean {
  if (readAutogroupNice('self') === undefined) return false;
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return hex === undefined || ((BigInt(`0x${hex}`) >> CAP_SYS_ADMIN) & 1n) === 0n;
  } catch {
    return true;
  }
}

/**
 * The nice value of a process's autogroup, from the text of /proc/PID/autogroup (`/autogroup-42 nice 0`). The text is
 * empty for a process of the root autogroup (one in the session of pid 1, such as a job a CI agent started without
 * setsid): that group weighs as nice 0 does (ROOT_TASK_GROUP_LOAD = NICE_0_LOAD), so 0.
 */
export function autogroupNiceIn(text: string): number {
  const match = / nice (-?\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

/** The nice value of a process's autogroup (see autogroupNiceIn); undefined without autogroups in the kernel. */
export function readAutogroupNice(pid: number | 'self'): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/autogroup`, 'utf8');
  } catch {
    return undefined;
  }
  return autogroupNiceIn(text);
}

/**
 * Sets the nice value (-20..19) of the autogroup of `pid`: the caller's own unreaped child (so the pid is still that
 * process's) or the caller itself, and the only session in its group that should change. Lowering it again takes
 * CAP_SYS_NICE. Returns the errno code when the kernel refused (EAGAIN: rate-limited, see autogroupRateLimited),
 * undefined when it took it.
 */
export function writeAutogroupNice(pid: number, nice: number): string | undefined {
  try {
    // r+: never create a file.
    writeFileSync(`/proc/${pid}/autogroup`, String(nice), { flag: 'r+' });
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EIO';
  }
}
