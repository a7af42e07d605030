// The privilege-dropping config reader (tyrant mode): a short-lived process the emperor starts as root, with
// `node reader-child.js UID GID`, the fixed root environment and no Node options (see read-as-owner.ts). Its modules
// are loaded as root, so a tenant need not be able to read the install directory; the first thing it runs drops to
// the tenant for good. Only then does it read the request on stdin and everything the vassal's config names, with
// the tenant's rights and the tenant's environment. It answers one JSON reply on stdout (reader-protocol.ts), one
// item per vassal file asked for (all of the same owner), and exits. Nothing else may write to stdout.
import type { ConfigHost, ReadResult } from '../config/config-host.js';
import { systemHost } from '../config/config-host.js';
import { readVassalText } from '../config/config-reader.js';
import { buildFromRead } from '../config/load-vassal.js';
import { tenantEnvironment } from '../runtime/tenant-env.js';
import os from 'node:os';
import { dropPrivileges } from '../runtime/drop-privileges.js';
import { recordingHost } from '../config/recording-host.js';
import type { TenantAccount } from '../runtime/tenant-env.js';
import { ownerAccessProblems } from './owner-access.js';
import { encodeReplies, RecordingReferences, type ReaderFailure, type ReaderFile, type ReaderReply, type ReaderRequest } from './reader-protocol.js';

function answer(text: string, code: number): void {
  process.stdout.write(text, () => process.exit(code));
}

function fail(message: string, code: number): void {
  answer(JSON.stringify({ failure: message } satisfies ReaderFailure), code);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A refused read says whose rights it was made with: root could read the file, the tenant cannot. */
function saysWho(result: ReadResult, uid: number): ReadResult {
  if (result.ok || !/EACCES|EPERM|permission denied/i.test(result.reason)) return result;
  return { ok: false, reason: `${result.reason} (read as uid ${uid}, the vassal file's owner)` };
}

/** This process's passwd entry (name, home, shell), or undefined for a uid without one. */
function ownAccount(): TenantAccount | undefined {
  try {
    const info = os.userInfo();
    return { name: info.username, home: info.homedir, shell: info.shell ?? '' };
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const uid = Number(process.argv[2]);
  const gid = Number(process.argv[3]);
  let account: TenantAccount | undefined;
  try {
    dropPrivileges({ uid, gid, user: uid, initGroups: true });
    account = ownAccount();
  } catch (err) {
    fail(`cannot become uid ${uid} gid ${gid}: ${(err as Error).message}`, 3);
    return;
  }
  const request = JSON.parse(await readStdin()) as ReaderRequest;
  const base = systemHost(tenantEnvironment(account, request.passed));
  const host: ConfigHost = {
    ...base,
    readText: (file) => saysWho(base.readText(file), uid),
    facts: { ...base.facts, cwd: request.cwd, startedAtMicros: request.startedAtMicros },
  };
  answer(encodeReplies(request.files.map((file) => readOne(file, host, request))), 0);
}

function readOne({ file, text }: ReaderFile, host: ConfigHost, request: ReaderRequest): ReaderReply | ReaderFailure {
  try {
    const recorder = recordingHost(host);
    const read = readVassalText(text, file, recorder.host, request.defaults);
    const references = new RecordingReferences(read.entries, recorder.host);
    // Built here to make exactly the expansions the emperor's build will ask for, and to check the owner's access
    // to the paths the config names; the emperor builds again from the reply and trusts none of this build.
    const built = buildFromRead(read, file, references);
    const checks = built.ok ? ownerAccessProblems(built.config, read.entries, references.expansions) : [];
    return { read, expansions: references.expansions, checks, observations: recorder.observations() };
  } catch (err) {
    return { failure: `the reader failed: ${(err as Error).stack ?? String(err)}` };
  }
}

main().catch((err: unknown) => fail(`the reader failed: ${(err as Error).stack ?? String(err)}`, 1));
