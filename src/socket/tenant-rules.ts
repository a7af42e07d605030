/**
 * What a tenant (a vassal in tyrant mode) may ask of the emperor's sockets: no more than its own account could do.
 * Pure; the kernel enforces the same where it can (the bind helper runs as the tenant), these give the reasons.
 */
import type { VassalSocketAddress } from '../config/socket-address.js';
import type { SocketOwnerRequest } from './bind-request.js';

/** The emperor option that lets tenants bind TCP ports below 1024. */
export const PRIVILEGED_PORTS_OPTION = 'tyrant-privileged-ports';
/** Ports below this need root (Linux's default net.ipv4.ip_unprivileged_port_start). */
export const FIRST_UNPRIVILEGED_PORT = 1024;

/** Who holds a socket: the emperor itself (default mode), or a tenant (tyrant mode: the file owner's uid and gid). */
export type SocketOwner = { readonly kind: 'emperor' } | { readonly kind: 'tenant'; readonly uid: number; readonly gid: number };

export const EMPEROR_OWNER: SocketOwner = Object.freeze({ kind: 'emperor' });

export function sameOwner(a: SocketOwner, b: SocketOwner): boolean {
  return a.kind === 'emperor' ? b.kind === 'emperor' : b.kind === 'tenant' && a.uid === b.uid && a.gid === b.gid;
}

function describeOwner(owner: SocketOwner): string {
  return owner.kind === 'emperor' ? 'the emperor' : `uid ${owner.uid} gid ${owner.gid}`;
}

/** Why `asker` may not lease the socket `name` that `holder` holds; undefined when it may (same owner). */
export function leaseRefusal(name: string, holder: SocketOwner, asker: SocketOwner): string | undefined {
  if (sameOwner(holder, asker)) return undefined;
  const whose =
    holder.kind === 'emperor' ? 'the emperor' : asker.kind === 'tenant' && holder.uid === asker.uid ? `a vassal of the same user with another group (${describeOwner(holder)})` : `another tenant's vassal (${describeOwner(holder)})`;
  return `socket ${name} belongs to ${whose}; this vassal runs as ${describeOwner(asker)}, and a socket is only shared between vassals of the same owner`;
}

/** Why a tenant may not bind `address` (before any bind); undefined when it may, as far as we decide. */
export function addressRefusal(name: string, address: VassalSocketAddress, privilegedPorts: boolean): string | undefined {
  if (address.kind !== 'tcp' || address.port >= FIRST_UNPRIVILEGED_PORT || privilegedPorts) return undefined;
  return `socket ${name}: port ${address.port} is below ${FIRST_UNPRIVILEGED_PORT}; in tyrant mode, ports below ${FIRST_UNPRIVILEGED_PORT} need ${PRIVILEGED_PORTS_OPTION} on the emperor`;
}

/**
 * Why a tenant may not give its socket to `owner` (chown-socket), given who it is: the user part must be the tenant
 * itself, the group one of its groups (primary or supplementary). Undefined when allowed.
 */
export function chownRefusal(socket: string, owner: SocketOwnerRequest, tenant: { uid: number; gid: number; groups: readonly number[] }): string | undefined {
  if (owner.uid !== undefined && owner.uid !== tenant.uid) {
    return `socket ${socket}: chown-socket = ${owner.text}: uid ${owner.uid} is not the vassal's owner (uid ${tenant.uid}); in tyrant mode a socket can only belong to its owner`;
  }
  if (owner.gid !== undefined && owner.gid !== tenant.gid && !tenant.groups.includes(owner.gid)) {
    const groups = [...new Set([tenant.gid, ...tenant.groups])].join(', ');
    return `socket ${socket}: chown-socket = ${owner.text}: gid ${owner.gid} is not a group of uid ${tenant.uid} (its groups: ${groups}); in tyrant mode a socket can only be given to the owner's groups`;
  }
  return undefined;
}
