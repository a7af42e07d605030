import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '../config/diagnostic.js';
import type { VassalDefaults } from '../config/load-vassal.js';
import { optionDiagnostic, type VassalConfig, type VassalConfigResult } from '../config/vassal-config.js';
import type { Observation } from '../config/recording-host.js';
import { lookupGroup, lookupUser } from '../runtime/accounts.js';
import { readAsOwner, type ReaderRun } from '../tenant-reader/read-as-owner.js';
import type { FileOwner, VassalFile } from './vassal-files.js';

/** The ownership part of a vassal file's identity: in tyrant mode a chown changes who the vassal runs as. */
export function ownerKey(owner: FileOwner): string {
  return `${owner.uid}:${owner.gid}:${owner.linkUid}`;
}

export interface TenantReadOptions {
  readonly defaults?: VassalDefaults;
  /** The emperor's variables passed to tenants (tyrant-pass-env), by name. */
  readonly passed?: Readonly<Record<string, string>>;
  /** Aborting kills a reader in flight (the emperor is stopping). */
  readonly signal?: AbortSignal;
}

/**
 * A tenant's vassal file, read the tyrant way: refused outright if its ownership or its directories make it
 * untrustworthy (refuseTenantFile); otherwise its config is read with its owner's rights and environment, in a
 * reader process (tenant-reader/), and the tyrant rules are applied to the result (applyTyranny). `reader` says
 * how the reader process went, when one ran. Never throws.
 */
export async function readTenantVassal(
  file: VassalFile,
  options: TenantReadOptions = {},
): Promise<{ result: VassalConfigResult; reader?: ReaderRun; observations: readonly Observation[] }> {
  const refused = await refuseTenantFile(file.path, file.owner);
  if (refused) return { result: { ok: false, diagnostics: [refused] }, observations: [] };
  const { result, run, observations } = await readAsOwner(file, file.owner, options);
  if (!result.ok) return { result, reader: run, observations };
  const ruled = await applyTyranny(result.config, file.owner);
  return {
    result: ruled.ok ? { ...result, config: ruled.config } : { ok: false, diagnostics: [...result.diagnostics, ruled.diagnostic] },
    reader: run,
    observations,
  };
}

const tyrantError = (file: string, message: string, extra: Partial<Diagnostic> = {}): Diagnostic => ({
  severity: 'error',
  file,
  message: `emperor-tyrant: ${message}`,
  ...extra,
});

/** Why the file's ownership alone rules it out, or undefined. */
function ownershipProblem(owner: FileOwner): string | undefined {
  if (owner.linkUid !== owner.uid) {
    return `the symlink is owned by uid ${owner.linkUid} but its target by uid ${owner.uid}; both must belong to the user the vassal runs as`;
  }
  if (owner.uid === 0) return 'the file is owned by root, and tyrant mode never runs a vassal as root; chown it to the user it should run as';
  if (owner.gid === 0) return 'the file\'s group is root (gid 0), and tyrant mode never runs a vassal with group root; chgrp it to a group of its owner';
  return undefined;
}

/**
 * What must hold before anything of a tenant's vassal file is read as its owner: the ownership rules (see
 * applyTyranny), and the directory-chain rule: every directory above the file's real path (for a symlinked vassal,
 * its target's) belongs to root or to the file's owner, and is writable by nobody else, except a world-writable
 * directory that is sticky and owned by root (like /tmp), where others cannot rename or remove the owner's file.
 * Otherwise whoever else may write one of them could swap the file (or a directory on its path) for one of the
 * owner's other files, or make the owner's file appear where the emperor looks. Returns the refusal, naming the
 * directory, or undefined. A refusal of the chain is `external`: fixing a directory does not change the file.
 */
export async function refuseTenantFile(file: string, owner: FileOwner): Promise<Diagnostic | undefined> {
  const problem = ownershipProblem(owner);
  if (problem) return tyrantError(file, problem);
  const chain = await directoryChainProblem(file, owner.uid);
  return chain ? tyrantError(file, chain, { external: true }) : undefined;
}

/** Why the directories above `file` (resolved) let someone other than root or `ownerUid` replace it, or undefined. */
export async function directoryChainProblem(file: string, ownerUid: number): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(file);
  } catch (err) {
    return `cannot resolve ${file}: ${(err as Error).message}`;
  }
  for (let dir = path.dirname(real); ; dir = path.dirname(dir)) {
    let st;
    try {
      st = await lstat(dir);
    } catch (err) {
      return `cannot check the directory ${dir}: ${(err as Error).message}`;
    }
    // realpath() resolved every link: one here now means the path changed under us.
    if (!st.isDirectory()) return `the directory ${dir} changed while it was checked`;
    const mode = (st.mode & 0o7777).toString(8).padStart(3, '0');
    if (st.uid !== 0 && st.uid !== ownerUid) {
      return `the directory ${dir} belongs to uid ${st.uid}, who could replace the vassal file; every directory above a tenant's vassal file must belong to root or to the file's owner (uid ${ownerUid})`;
    }
    const writable = st.mode & 0o022;
    const stickyRoot = (st.mode & 0o1000) !== 0 && st.uid === 0;
    if (writable && !stickyRoot) {
      const who = writable === 0o022 ? 'its group and others' : writable === 0o020 ? 'its group' : 'others';
      return `the directory ${dir} is writable by ${who} (mode ${mode}), who could replace the vassal file; only root and the file's owner may write the directories above it (a world-writable one only if it is sticky and owned by root, like /tmp)`;
    }
    if (dir === path.dirname(dir)) return undefined;
  }
}

/**
 * emperor-tyrant (uWSGI's name): a vassal runs as the uid and gid that own its file. Refused: files owned by root
 * or with group root (tyrant mode exists so that users cannot run anything as root), a symlink owned by someone
 * else than its target (else anyone who may write the directory could borrow another user's file), and a file that
 * asks for another uid or gid. Returns the config with uid/gid set to the owner's, or the error.
 */
export async function applyTyranny(
  config: VassalConfig,
  owner: FileOwner,
): Promise<{ ok: true; config: VassalConfig } | { ok: false; diagnostic: Diagnostic }> {
  const refuse = (message: string, key?: 'uid' | 'gid'): { ok: false; diagnostic: Diagnostic } => ({
    ok: false,
    diagnostic: key ? optionDiagnostic(config, key, `emperor-tyrant: ${message}`) : { severity: 'error', file: config.file, message: `emperor-tyrant: ${message}` },
  });
  const problem = ownershipProblem(owner);
  if (problem) return refuse(problem);
  if (config.uid !== undefined) {
    const asked = await lookupUser(config.uid).then((a) => a.uid, () => (/^\d+$/.test(config.uid ?? '') ? Number(config.uid) : undefined));
    if (asked !== owner.uid) return refuse(`uid = ${config.uid}, but the file is owned by uid ${owner.uid}; a vassal runs as its file's owner`, 'uid');
  }
  if (config.gid !== undefined) {
    const asked = await lookupGroup(config.gid).then((g) => g.gid, () => undefined);
    if (asked === 0) return refuse(`gid = ${config.gid} is group root, and tyrant mode never runs a vassal with group root`, 'gid');
    if (asked !== owner.gid) return refuse(`gid = ${config.gid}, but the file's group is gid ${owner.gid}; a vassal runs with its file's group`, 'gid');
  }
  return { ok: true, config: Object.freeze({ ...config, uid: String(owner.uid), gid: String(owner.gid) }) };
}
