import type { Diagnostic } from '../config/diagnostic.js';
import type { VassalConfig } from '../config/vassal-config.js';
import { lookupGroup, lookupUser } from '../runtime/accounts.js';
import type { FileOwner } from './vassal-files.js';

/** The ownership part of a vassal file's identity: in tyrant mode a chown changes who the vassal runs as. */
export function ownerKey(owner: FileOwner): string {
  return `${owner.uid}:${owner.gid}:${owner.linkUid}`;
}

/**
 * emperor-tyrant (uWSGI's name): a vassal runs as the uid and gid that own its file. Refused: files owned by root
 * (tyrant mode exists so that users cannot run anything as root), a symlink owned by someone else than its target
 * (else anyone who may write the directory could borrow another user's file), and a file that asks for another
 * uid or gid. Returns the config with uid/gid set to the owner's, or the error.
 */
export async function applyTyranny(
  config: VassalConfig,
  owner: FileOwner,
): Promise<{ ok: true; config: VassalConfig } | { ok: false; diagnostic: Diagnostic }> {
  const refuse = (message: string, key?: 'uid' | 'gid'): { ok: false; diagnostic: Diagnostic } => ({
    ok: false,
    diagnostic: { severity: 'error', file: config.file, line: key ? config.lines[key] : undefined, key, message: `emperor-tyrant: ${message}` },
  });
  if (owner.linkUid !== owner.uid) {
    return refuse(`the symlink is owned by uid ${owner.linkUid} but its target by uid ${owner.uid}; both must belong to the user the vassal runs as`);
  }
  if (owner.uid === 0) return refuse('the file is owned by root, and tyrant mode never runs a vassal as root; chown it to the user it should run as');
  if (config.uid !== undefined) {
    const asked = await lookupUser(config.uid).then((a) => a.uid, () => (/^\d+$/.test(config.uid ?? '') ? Number(config.uid) : undefined));
    if (asked !== owner.uid) return refuse(`uid = ${config.uid}, but the file is owned by uid ${owner.uid}; a vassal runs as its file's owner`, 'uid');
  }
  if (config.gid !== undefined) {
    const asked = await lookupGroup(config.gid).then((g) => g.gid, () => undefined);
    if (asked !== owner.gid) return refuse(`gid = ${config.gid}, but the file's group is gid ${owner.gid}; a vassal runs with its file's group`, 'gid');
  }
  return { ok: true, config: Object.freeze({ ...config, uid: String(owner.uid), gid: String(owner.gid) }) };
}
