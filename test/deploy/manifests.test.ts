// Keeps docs/deploy/ valid and docs/deploy.md true to it and to the code:
// - every YAML file there parses without an error or a warning, and reads the same as YAML 1.1 (PyYAML, which Ansible
//   uses) and as YAML 1.2 (an unquoted `mode: 0644` is 420 in one and 644 in the other);
// - the Kubernetes manifests carry what the API server needs, and the Deployment mounts the ConfigMap where its
//   emperor's --emperor argument looks; the vassal files they carry read without an error or a warning;
// - the Ansible play uses the modules named here, with what they need, writes where the shipped emperor.ini looks,
//   and its template, rendered with the play's variables, is a vassal file without an error or a warning;
// - every file that deploy.md shows (after a `<!-- file: PATH -->` line) is shown exactly as it is, every file under
//   docs/deploy/ is shown, and every `supervisor ...` command in its shell blocks is one the CLI accepts.
// Each check is a function returning what is wrong; a case next to each feeds it a broken copy, so that none of them
// can pass by checking nothing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseCommandLine } from '../../src/cli/command-line.js';
import { inspectConfigFile } from '../../src/config/config-file.js';
import { fakeHost } from '../support/config-host.js';
import { readUnit, REPO, unitValue } from '../support/systemd-unit.js';

const DEPLOY = 'docs/deploy';
const GUIDE = 'docs/deploy.md';
const read = (file: string): string => readFileSync(path.join(REPO, file), 'utf8');

/** Files under `dir` (relative to the checkout), sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(path.join(REPO, dir))
    .flatMap((name) => {
      const rel = path.posix.join(dir, name);
      return statSync(path.join(REPO, rel)).isDirectory() ? filesUnder(rel) : [rel];
    })
    .sort();
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

// --- YAML ---------------------------------------------------------------------------------------------------------

/** The documents of a YAML text, and every error and warning of the parser, and every value that YAML 1.1 reads otherwise. */
function readYaml(text: string): { docs: unknown[]; problems: string[] } {
  const options = { uniqueKeys: true, strict: true, prettyErrors: true } as const;
  const as12 = parseAllDocuments(text, { ...options, version: '1.2' });
  const as11 = parseAllDocuments(text, { ...options, version: '1.1' });
  if (!Array.isArray(as12) || !Array.isArray(as11)) return { docs: [], problems: ['no document'] };
  const problems = as12.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message));
  const docs = as12.map((d) => d.toJS() as unknown);
  const docs11 = as11.map((d) => d.toJS() as unknown);
  if (problems.length === 0 && JSON.stringify(docs) !== JSON.stringify(docs11)) {
    problems.push(`reads differently as YAML 1.1 and 1.2 (quote the value): ${JSON.stringify(docs11)} vs ${JSON.stringify(docs)}`);
  }
  return { docs, problems };
}

// --- vassal files ---------------------------------------------------------------------------------------------------

/** The errors and warnings of a vassal file's text, read as the emperor reads `file`. */
function vassalFindings(file: string, text: string): string[] {
  const inspected = inspectConfigFile(file, fakeHost({ [file]: text }));
  return inspected.diagnostics.filter((d) => d.severity !== 'note').map((d) => `${d.file}:${d.line ?? ''}: ${d.severity}: ${d.message}`);
}

/** The values a vassal file gives `key` (a regular expression, for aliases), from its uncommented `key = value` lines. */
function iniValues(text: string, key: string): string[] {
  return text
    .split('\n')
    .map((line) => new RegExp(`^\\s*(?:${key})\\s*=\\s*(.*?)\\s*$`).exec(line)?.[1])
    .filter((v): v is string => v !== undefined);
}

// --- Kubernetes ---------------------------------------------------------------------------------------------------

const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** What a Kubernetes object lacks that the API server requires of every object. */
function objectProblems(doc: unknown): string[] {
  if (!isObject(doc)) return ['not a mapping'];
  const problems: string[] = [];
  if (typeof doc.apiVersion !== 'string' || doc.apiVersion === '') problems.push('no apiVersion');
  if (typeof doc.kind !== 'string' || doc.kind === '') problems.push('no kind');
  const name = isObject(doc.metadata) ? doc.metadata.name : undefined;
  if (typeof name !== 'string' || !DNS_1123.test(name)) problems.push(`metadata.name ${JSON.stringify(name)} is not a DNS-1123 name`);
  return problems;
}

/** What is wrong with a ConfigMap of vassal files: each key a file name ending in .ini, each value a usable vassal file. */
function configMapProblems(configMap: Json, mountPath: string): string[] {
  const data = isObject(configMap.data) ? configMap.data : {};
  if (Object.keys(data).length === 0) return ['no data: no vassal file'];
  return Object.entries(data).flatMap(([key, text]) => {
    if (!/^[-._a-zA-Z0-9]+\.ini$/.test(key)) return [`key ${key}: not a vassal file name (NAME.ini)`];
    if (typeof text !== 'string') return [`key ${key}: not text`];
    return vassalFindings(path.posix.join(mountPath, key), text);
  });
}

/** The emperor's directory from a container's command line: the word after --emperor. */
function emperorDir(container: Json): string | undefined {
  const argv = [...asArray(container.command), ...asArray(container.args)].map(String);
  const at = argv.indexOf('--emperor');
  return at >= 0 ? argv[at + 1] : undefined;
}

/**
 * What is wrong with a Deployment that runs the emperor on the ConfigMap's vassal files: the selector must match the
 * pod's labels; a container must run `--emperor DIR` with the ConfigMap's volume mounted whole (no subPath, which never
 * sees updates) at DIR; the pod must give the emperor longer than the longest worker-reload-mercy to stop; every TCP
 * port a vassal listens on must be a container port.
 */
function deploymentProblems(deployment: Json, configMap: Json): string[] {
  const problems: string[] = [];
  const spec = isObject(deployment.spec) ? deployment.spec : {};
  const template = isObject(spec.template) ? spec.template : {};
  const podLabels = isObject(template.metadata) && isObject(template.metadata.labels) ? template.metadata.labels : {};
  const selector = isObject(spec.selector) && isObject(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
  if (Object.keys(selector).length === 0) problems.push('no spec.selector.matchLabels');
  for (const [k, v] of Object.entries(selector)) if (podLabels[k] !== v) problems.push(`selector ${k}=${String(v)} does not match the pod's labels`);

  const pod = isObject(template.spec) ? template.spec : {};
  const containers = asArray(pod.containers).filter(isObject);
  const emperor = containers.find((c) => emperorDir(c) !== undefined);
  if (!emperor) return [...problems, 'no container runs --emperor DIR'];
  const dir = path.posix.normalize(emperorDir(emperor) ?? '');
  const mount = asArray(emperor.volumeMounts)
    .filter(isObject)
    .find((m) => typeof m.mountPath === 'string' && path.posix.normalize(m.mountPath) === dir);
  if (!mount) problems.push(`nothing is mounted at ${dir}, the emperor's directory`);
  else {
    if (mount.subPath !== undefined) problems.push(`the mount at ${dir} has a subPath: it would never see the ConfigMap's updates`);
    const volume = asArray(pod.volumes)
      .filter(isObject)
      .find((v) => v.name === mount.name);
    const source = volume && isObject(volume.configMap) ? volume.configMap.name : undefined;
    const wanted = isObject(configMap.metadata) ? configMap.metadata.name : undefined;
    if (source !== wanted) problems.push(`the volume mounted at ${dir} is ${source === undefined ? 'not a ConfigMap' : `ConfigMap ${String(source)}`}, not ${String(wanted)}`);
  }

  const vassals = Object.values(isObject(configMap.data) ? configMap.data : {}).map(String);
  // Each vassal's mercy: its last value (a scalar keeps the last), else the default of 10 s.
  const mercy = Math.max(...vassals.map((t) => Number(iniValues(t, 'worker-reload-mercy|reload-mercy|mercy').at(-1) ?? 10)));
  const grace = typeof pod.terminationGracePeriodSeconds === 'number' ? pod.terminationGracePeriodSeconds : 30;
  if (!(grace > mercy)) problems.push(`terminationGracePeriodSeconds ${grace} is not longer than the longest worker-reload-mercy (${mercy} s)`);

  const ports = new Set(asArray(emperor.ports).map((p) => (isObject(p) ? p.containerPort : undefined)));
  for (const socket of vassals.flatMap((t) => iniValues(t, 'socket'))) {
    const port = /:(\d+)$/.exec(socket)?.[1];
    if (port && !ports.has(Number(port))) problems.push(`a vassal listens on ${socket}, but ${port} is not a containerPort`);
  }
  return problems;
}

// --- Ansible ------------------------------------------------------------------------------------------------------

/** Keywords of a task that are not its module (Ansible's task keywords that the play may use). */
const TASK_KEYWORDS = new Set(['name', 'notify', 'when', 'register', 'changed_when', 'failed_when', 'become', 'tags', 'vars', 'loop', 'listen']);
/** Modules that write a file onto the host: each must say whose it is and its mode. */
const FILE_MODULES = new Set(['ansible.builtin.copy', 'ansible.builtin.template']);

const moduleOf = (task: Json): string[] => Object.keys(task).filter((k) => !TASK_KEYWORDS.has(k));

/** `{{ name }}` replaced by the play's variable (recursively), as Jinja would for these plain references. */
function render(text: string, vars: Json): string {
  let out = text;
  for (let pass = 0; pass < 5 && out.includes('{{'); pass++) {
    out = out.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => {
      if (!(name in vars)) throw new Error(`undefined variable ${name}`);
      return String(vars[name]);
    });
  }
  return out;
}

/** The supervisor command line a task runs, without the program (node and the script), for parseCommandLine. */
function supervisorArgs(commandLine: string, supervisor: string): string[] | undefined {
  return commandLine.startsWith(`${supervisor} `) ? commandLine.slice(supervisor.length + 1).split(/\s+/) : undefined;
}

/**
 * What is wrong with the play: each task one module, of those `modules` names, in that order (tasks, then handlers);
 * every notify names a handler; files written with owner, group and a quoted mode; the vassal file written into the
 * directory the shipped emperor watches, validated with `--check %s`, from a template that is a usable vassal file;
 * every supervisor command it runs one the CLI accepts, through the program the shipped unit runs.
 */
function playProblems(plays: unknown, expected: { modules: readonly string[]; vassalDir: string; supervisor: string }, templateText: (src: string) => string | undefined): string[] {
  if (!Array.isArray(plays) || plays.length === 0) return ['not a list of plays'];
  const problems: string[] = [];
  const used: string[] = [];
  for (const play of plays) {
    if (!isObject(play) || typeof play.hosts !== 'string') {
      problems.push('a play without hosts');
      continue;
    }
    const vars = isObject(play.vars) ? play.vars : {};
    if (vars.vassal_dir !== expected.vassalDir) problems.push(`vassal_dir is ${String(vars.vassal_dir)}, not ${expected.vassalDir} (systemd/emperor.ini)`);
    if (vars.supervisor !== expected.supervisor) problems.push(`supervisor is ${String(vars.supervisor)}, not ${expected.supervisor} (the unit's ExecStart)`);
    const handlers = asArray(play.handlers).filter(isObject);
    const handlerNames = new Set(handlers.map((h) => h.name));
    for (const task of [...asArray(play.tasks), ...handlers]) {
      if (!isObject(task) || typeof task.name !== 'string') {
        problems.push('a task without a name');
        continue;
      }
      const modules = moduleOf(task);
      if (modules.length !== 1) {
        problems.push(`task "${task.name}": ${modules.length} modules (${modules.join(', ')})`);
        continue;
      }
      const module = modules[0]!;
      used.push(module);
      const args = task[module];
      for (const n of asArray(task.notify ?? []).concat(typeof task.notify === 'string' ? [task.notify] : [])) {
        if (!handlerNames.has(n)) problems.push(`task "${task.name}" notifies "${String(n)}", which is no handler`);
      }
      if (FILE_MODULES.has(module)) {
        if (!isObject(args)) {
          problems.push(`task "${task.name}": ${module} without arguments`);
          continue;
        }
        for (const key of ['owner', 'group', 'mode']) if (args[key] === undefined) problems.push(`task "${task.name}" leaves ${key} to chance`);
        if (args.mode !== undefined && typeof args.mode !== 'string') problems.push(`task "${task.name}": mode must be quoted (a YAML number is read in decimal or octal depending on the parser)`);
      }
      if (module === 'ansible.builtin.template' && isObject(args)) {
        const dest = typeof args.dest === 'string' ? render(args.dest, vars) : '';
        if (path.posix.dirname(dest) !== expected.vassalDir || !dest.endsWith('.ini')) problems.push(`template writes ${dest}, not a vassal file in ${expected.vassalDir}`);
        const validate = typeof args.validate === 'string' ? render(args.validate, vars) : '';
        const check = supervisorArgs(validate.replace('%s', dest), expected.supervisor);
        if (!validate.endsWith('--check %s') || !check || parseCommandLine(check).type !== 'check') problems.push(`template is not validated with ${expected.supervisor} --check %s`);
        const text = typeof args.src === 'string' ? templateText(args.src) : undefined;
        if (text === undefined) problems.push(`template source ${String(args.src)} is missing`);
        else {
          try {
            problems.push(...vassalFindings(dest, render(text, vars)));
          } catch (err) {
            problems.push(`template ${String(args.src)}: ${(err as Error).message}`);
          }
        }
      }
      if (module === 'ansible.builtin.command') {
        const line = render(String(isObject(args) ? args.cmd : args), vars);
        const argv = supervisorArgs(line, expected.supervisor);
        if (!argv) problems.push(`task "${task.name}" runs ${line}, not ${expected.supervisor}`);
        else {
          try {
            parseCommandLine(argv);
          } catch (err) {
            problems.push(`task "${task.name}": ${(err as Error).message}`);
          }
        }
      }
    }
  }
  if (JSON.stringify(used) !== JSON.stringify(expected.modules)) problems.push(`modules used: ${used.join(', ')}; expected ${expected.modules.join(', ')}`);
  return problems;
}

// --- deploy.md ----------------------------------------------------------------------------------------------------

interface Shown {
  readonly file: string;
  readonly body: string;
  readonly line: number;
}

/**
 * The files a Markdown text shows: each `<!-- file: PATH -->` line must be followed at once by a fenced block, whose
 * content (with a final newline) is what it shows. Throws naming the line of a marker without its block.
 */
function shownFiles(markdown: string): Shown[] {
  const lines = markdown.split('\n');
  const shown: Shown[] = [];
  lines.forEach((text, i) => {
    const marker = /^<!-- file: (\S+) -->$/.exec(text);
    if (!marker) return;
    const fence = /^(`{3,})[\w-]*$/.exec(lines[i + 1] ?? '')?.[1];
    if (!fence) throw new Error(`${GUIDE}:${i + 1}: ${marker[1]}: no fenced block right after the marker`);
    const end = lines.findIndex((l, j) => j > i + 1 && l === fence);
    if (end < 0) throw new Error(`${GUIDE}:${i + 2}: unclosed block`);
    shown.push({ file: marker[1]!, body: `${lines.slice(i + 2, end).join('\n')}\n`, line: i + 1 });
  });
  return shown;
}

/** Where what a Markdown text shows differs from the files, and which files of `required` it does not show. */
function showProblems(markdown: string, required: readonly string[], fileText: (file: string) => string | undefined): string[] {
  const shown = shownFiles(markdown);
  const problems = shown.flatMap((s) => {
    const actual = fileText(s.file);
    if (actual === undefined) return [`${GUIDE}:${s.line}: shows ${s.file}, which does not exist`];
    return actual === s.body ? [] : [`${GUIDE}:${s.line}: ${s.file} is not shown as it is`];
  });
  const seen = new Set(shown.map((s) => s.file));
  return [...problems, ...required.filter((f) => !seen.has(f)).map((f) => `${f} is not shown in ${GUIDE}`)];
}

/** The `supervisor ...` lines of the shell blocks of a Markdown text, as argument lists (comments cut). */
function supervisorCommands(markdown: string): { line: number; argv: string[] }[] {
  const commands: { line: number; argv: string[] }[] = [];
  // undefined: outside a block; else whether the block is a shell block.
  let shell: boolean | undefined;
  markdown.split('\n').forEach((text, i) => {
    const fence = /^```([\w-]*)$/.exec(text);
    if (fence) shell = shell === undefined ? ['sh', 'bash', 'console'].includes(fence[1] ?? '') : undefined;
    else if (shell && text.startsWith('supervisor ')) commands.push({ line: i + 1, argv: text.replace(/\s+#.*$/, '').split(/\s+/).slice(1) });
  });
  return commands;
}

function commandProblems(markdown: string): string[] {
  return supervisorCommands(markdown).flatMap(({ line, argv }) => {
    try {
      parseCommandLine(argv);
      return [];
    } catch (err) {
      return [`${GUIDE}:${line}: supervisor ${argv.join(' ')}: ${(err as Error).message}`];
    }
  });
}

// --- the shipped files these examples must agree with ------------------------------------------------------------

/** The directory the shipped emperor.ini watches, installed where the shipped unit reads it; the unit's program. */
function shippedLayout(): { vassalDir: string; supervisor: string } {
  const execStart = unitValue(readUnit(path.join(REPO, 'systemd/supervisor-notify.service')), 'Service', 'ExecStart') ?? '';
  // The unit's Node options (--max-semi-space-size=1) are the emperor's; a command to it runs without them.
  const [node, ...rest] = execStart.split(/\s+/);
  const [script, emperorIni] = rest.filter((word) => !word.startsWith('--max-semi-space-size'));
  const emperor = iniValues(read('systemd/emperor.ini'), 'emperor')[0] ?? '';
  return { vassalDir: path.posix.resolve(path.posix.dirname(emperorIni ?? ''), emperor), supervisor: `${node} ${script}` };
}

const ANSIBLE_MODULES = ['ansible.builtin.copy', 'ansible.builtin.template', 'ansible.builtin.command'];

// --- the tests ----------------------------------------------------------------------------------------------------

const yamlFiles = filesUnder(DEPLOY).filter((f) => /\.ya?ml$/.test(f));
const k8sDocs = (): Json[] => filesUnder(`${DEPLOY}/k8s`).filter((f) => /\.ya?ml$/.test(f)).flatMap((f) => readYaml(read(f)).docs.filter(isObject));
const byKind = (kind: string): Json => {
  const found = k8sDocs().filter((d) => d.kind === kind);
  expect(found, `one ${kind} in ${DEPLOY}/k8s`).toHaveLength(1);
  return found[0]!;
};

describe('YAML under docs/deploy', () => {
  it('there are manifests to check', () => {
    expect(yamlFiles).toEqual(expect.arrayContaining([`${DEPLOY}/k8s/configmap.yaml`, `${DEPLOY}/k8s/deployment.yaml`, `${DEPLOY}/ansible/vassal.yml`]));
  });

  it.each(yamlFiles)('%s: no error, no warning, the same as YAML 1.1 and 1.2', (file) => {
    const { docs, problems } = readYaml(read(file));
    expect(problems).toEqual([]);
    expect(docs.length).toBeGreaterThan(0);
  });

  it('the check fails on a duplicate key, a tab indent, and an unquoted octal mode', () => {
    expect(readYaml('a: 1\na: 2\n').problems).not.toEqual([]);
    expect(readYaml('a:\n\tb: 1\n').problems).not.toEqual([]);
    expect(readYaml('mode: 0644\n').problems).toEqual([expect.stringMatching(/reads differently as YAML 1.1 and 1.2/)]);
    expect(readYaml('mode: "0644"\n').problems).toEqual([]);
  });
});

describe('Kubernetes manifests', () => {
  it('every object has apiVersion, kind and metadata.name', () => {
    const docs = k8sDocs();
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'Deployment']);
    expect(docs.flatMap(objectProblems)).toEqual([]);
    expect(objectProblems({ kind: 'ConfigMap', metadata: { name: 'Vassals' } })).toEqual(['no apiVersion', 'metadata.name "Vassals" is not a DNS-1123 name']);
  });

  it('the Deployment mounts the ConfigMap, whole, at the directory its emperor watches, and leaves it time to stop', () => {
    const deployment = byKind('Deployment');
    const configMap = byKind('ConfigMap');
    expect(deploymentProblems(deployment, configMap)).toEqual([]);

    // Each rule can fail: broken copies.
    const copy = (): Json => structuredClone(deployment);
    const pod = (d: Json): Json => ((d.spec as Json).template as Json).spec as Json;
    const container = (d: Json): Json => (pod(d).containers as Json[])[0]!;
    const elsewhere = copy();
    (container(elsewhere).volumeMounts as Json[])[0]!.mountPath = '/etc/vassals';
    expect(deploymentProblems(elsewhere, configMap)).toEqual(['nothing is mounted at /etc/supervisor/vassals, the emperor\'s directory']);
    const sub = copy();
    (container(sub).volumeMounts as Json[])[0]!.subPath = 'hello.ini';
    expect(deploymentProblems(sub, configMap)).toEqual([expect.stringMatching(/has a subPath/)]);
    expect(deploymentProblems(deployment, { ...configMap, metadata: { name: 'other' } })).toEqual([expect.stringMatching(/is ConfigMap supervisor-vassals, not other/)]);
    const hasty = copy();
    pod(hasty).terminationGracePeriodSeconds = 10;
    expect(deploymentProblems(hasty, configMap)).toEqual([expect.stringMatching(/terminationGracePeriodSeconds 10/)]);
    const closed = copy();
    container(closed).ports = [];
    expect(deploymentProblems(closed, configMap)).toEqual([expect.stringMatching(/8080 is not a containerPort/)]);
    const unselected = copy();
    ((unselected.spec as Json).selector as Json).matchLabels = { app: 'other' };
    expect(deploymentProblems(unselected, configMap)).toEqual([expect.stringMatching(/does not match the pod's labels/)]);
    const noEmperor = copy();
    container(noEmperor).command = ['/usr/local/bin/node', '/opt/supervisor/bin/supervisor.js'];
    expect(deploymentProblems(noEmperor, configMap)).toEqual(['no container runs --emperor DIR']);
  });

  it('each key of the ConfigMap is a vassal file the emperor reads without an error or a warning', () => {
    const configMap = byKind('ConfigMap');
    const dir = emperorDir(((((byKind('Deployment').spec as Json).template as Json).spec as Json).containers as Json[])[0]!)!;
    expect(configMapProblems(configMap, dir)).toEqual([]);
    const data = configMap.data as Json;
    const [key, text] = Object.entries(data)[0]!;
    expect(configMapProblems({ data: { ...data, [key]: `${String(text)}processes = two\n` } }, dir)).toEqual([expect.stringMatching(/error: invalid value for processes/)]);
    expect(configMapProblems({ data: { 'hello.conf': text } }, dir)).toEqual(['key hello.conf: not a vassal file name (NAME.ini)']);
  });
});

describe('the Ansible play', () => {
  const playFile = `${DEPLOY}/ansible/vassal.yml`;
  const templates = (src: string): string | undefined => {
    try {
      return read(path.posix.join(path.posix.dirname(playFile), src));
    } catch {
      return undefined;
    }
  };
  const layout = shippedLayout();

  it('agrees with the shipped emperor.ini and unit', () => {
    expect(layout).toEqual({ vassalDir: '/etc/supervisor/vassals', supervisor: '/usr/bin/node /opt/supervisor/bin/supervisor.js' });
  });

  it('copies the code, writes the vassal file (validated, owner and mode set) from a usable template, and rolls the app with --reload-vassal', () => {
    const plays = readYaml(read(playFile)).docs[0];
    const expected = { modules: ANSIBLE_MODULES, ...layout };
    expect(playProblems(plays, expected, templates)).toEqual([]);

    // Each rule can fail: broken copies.
    const copy = (): Json[] => structuredClone(plays) as Json[];
    const task = (p: Json[], i: number): Json => (p[0]!.tasks as Json[])[i]!;
    const numericMode = copy();
    (task(numericMode, 1)['ansible.builtin.template'] as Json).mode = 420;
    expect(playProblems(numericMode, expected, templates)).toEqual([expect.stringMatching(/mode must be quoted/)]);
    const unowned = copy();
    delete (task(unowned, 0)['ansible.builtin.copy'] as Json).owner;
    expect(playProblems(unowned, expected, templates)).toEqual([expect.stringMatching(/leaves owner to chance/)]);
    const unchecked = copy();
    delete (task(unchecked, 1)['ansible.builtin.template'] as Json).validate;
    expect(playProblems(unchecked, expected, templates)).toEqual([expect.stringMatching(/not validated/)]);
    const misplaced = copy();
    (misplaced[0]!.vars as Json).vassal_dir = '/etc/uwsgi/vassals';
    expect(playProblems(misplaced, expected, templates)).toEqual([expect.stringMatching(/vassal_dir is \/etc\/uwsgi\/vassals/), expect.stringMatching(/template writes \/etc\/uwsgi\/vassals\/hello.ini/)]);
    const orphanNotify = copy();
    task(orphanNotify, 0).notify = 'Restart the app';
    expect(playProblems(orphanNotify, expected, templates)).toEqual([expect.stringMatching(/notifies "Restart the app", which is no handler/)]);
    const badFlag = copy();
    (badFlag[0]!.handlers as Json[])[0]!['ansible.builtin.command'] = '{{ supervisor }} --reload-vasal {{ app }}';
    expect(playProblems(badFlag, expected, templates)).toEqual([expect.stringMatching(/unknown option --reload-vasal/)]);
    const otherModule = copy();
    const handler = (otherModule[0]!.handlers as Json[])[0]!;
    handler['ansible.builtin.shell'] = handler['ansible.builtin.command'];
    delete handler['ansible.builtin.command'];
    expect(playProblems(otherModule, expected, templates)).toEqual([expect.stringMatching(/modules used: .*ansible.builtin.shell/)]);
    expect(playProblems(plays, expected, (src) => (src.endsWith('.j2') ? `${templates(src) ?? ''}processes = {{ workers }}\n` : undefined))).toEqual([
      expect.stringMatching(/template templates\/hello.ini.j2: undefined variable workers/),
    ]);
  });

  it('the check of the template itself can fail', () => {
    const plays = readYaml(read(playFile)).docs[0];
    const broken = (src: string): string | undefined => `${templates(src) ?? ''}processes = {{ port }}x\n`;
    expect(playProblems(plays, { modules: ANSIBLE_MODULES, ...layout }, broken)).toEqual([expect.stringMatching(/error: invalid value for processes/)]);
  });
});

describe('docs/deploy.md', () => {
  const markdown = read(GUIDE);
  const exists = (file: string): string | undefined => {
    try {
      return read(file);
    } catch {
      return undefined;
    }
  };

  it('shows every file under docs/deploy, and every file it shows, exactly as it is', () => {
    expect(showProblems(markdown, filesUnder(DEPLOY), exists)).toEqual([]);
    // The shipped files it walks through are shown as they are too.
    expect(shownFiles(markdown).map((s) => s.file)).toEqual(expect.arrayContaining(['systemd/emperor.ini', 'systemd/supervisor-notify.service', 'vassals.example/guide-003/etc/emperor.ini']));
  });

  it('the check fails on a changed line, a missing file, a marker without its block, and a file not shown', () => {
    // A page made from a real file, shown as it is, then with one line changed.
    const file = `${DEPLOY}/k8s/configmap.yaml`;
    const page = `Text.\n\n<!-- file: ${file} -->\n\`\`\`yaml\n${read(file)}\`\`\`\n`;
    expect(showProblems(page, [file], exists)).toEqual([]);
    expect(showProblems(page.replace('processes = 2', 'processes = 3'), [file], exists)).toEqual([`${GUIDE}:3: ${file} is not shown as it is`]);
    expect(showProblems(`<!-- file: docs/deploy/none.yaml -->\n\`\`\`yaml\nx: 1\n\`\`\`\n`, [], exists)).toEqual([`${GUIDE}:1: shows docs/deploy/none.yaml, which does not exist`]);
    expect(() => shownFiles('<!-- file: docs/deploy/k8s/configmap.yaml -->\n\nnot a block\n')).toThrow(/no fenced block right after the marker/);
    expect(showProblems('', ['docs/deploy/k8s/configmap.yaml'], exists)).toEqual([`docs/deploy/k8s/configmap.yaml is not shown in ${GUIDE}`]);
  });

  it('every supervisor command in its shell blocks is one the CLI accepts', () => {
    expect(supervisorCommands(markdown).length).toBeGreaterThan(10);
    expect(commandProblems(markdown)).toEqual([]);
    expect(commandProblems('```sh\nsupervisor --reload /run/supervisor/emperor.pid --wiat\n```\n')).toEqual([expect.stringMatching(/unknown option --wiat/)]);
  });
});
