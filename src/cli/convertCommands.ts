import { Command } from 'commander';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  allProfiles,
  BUILTIN_CONVERTERS,
  convertersFor,
  convertVersion,
  convertWithProfile,
  detectTool,
  InputError,
  profileAccepts,
  Registry,
  RegistryError,
  ToolProfile,
} from '../core';
import { formatBytes } from '../shared/format';
import { ProgressBar } from './progress';

type WithRegistry = <T>(fn: (r: Registry) => Promise<T>) => Promise<T>;

/** The user's own modelreg settings (never in a workspace): $XDG_CONFIG_HOME/modelreg/config.json, else ~/.config/modelreg/config.json. */
export function userConfigFile(): string {
  return path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'modelreg', 'config.json');
}

/** --trust-profiles, or "trustProfiles": true in the user's config file. */
export async function profilesTrusted(flag: boolean | undefined): Promise<boolean> {
  if (flag) return true;
  const file = userConfigFile();
  const text = await fsp.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  try {
    return (JSON.parse(text) as { trustProfiles?: unknown })?.trustProfiles === true;
  } catch (e) {
    throw new InputError(file, `not valid JSON (${(e as Error).message})`);
  }
}

/** How to trust the registry folder's profile files, for messages. */
export const trustHint = () => `pass --trust-profiles, or put {"trustProfiles": true} in ${userConfigFile()}`;

/**
 * A profile file from the registry folder (profiles.json, evaluators.json): it comes with the
 * workspace (a cloned repository can carry one) and names programs to run, so it is read only when
 * trusted. Untrusted, an existing file is ignored with a line on stderr saying so and how to trust it.
 */
export async function registryProfileFile(
  file: string,
  trusted: boolean,
): Promise<{ text?: string; ignored: boolean }> {
  const exists = await fsp.stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) return { ignored: false };
  if (!trusted) {
    console.error(
      `modelreg: ignored ${file}: its profiles run programs and it comes with the workspace; to use it, ${trustHint()}`,
    );
    return { ignored: true };
  }
  return { text: await fsp.readFile(file, 'utf8'), ignored: false };
}

/** Profiles from <registry>/profiles.json (a list, as in the modelRegistry.convert.profiles setting), when trusted. */
async function profiles(r: Registry, trust: boolean | undefined): Promise<{ list: ToolProfile[]; ignored?: string }> {
  const file = path.join(r.dir, 'profiles.json');
  const { text = '[]', ignored } = await registryProfileFile(file, await profilesTrusted(trust));
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (e) {
    throw new RegistryError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(list)) throw new RegistryError(`${file}: must be a list of profiles`);
  return { list: allProfiles(list, file), ...(ignored ? { ignored: file } : {}) };
}

function parseParams(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new RegistryError(`--param ${p}: write it as NAME=VALUE`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

export function registerConvertCommands(
  program: Command,
  withRegistry: WithRegistry,
  print: (value: unknown) => void,
): void {
  program
    .command('convert')
    .description(
      'convert a version into a new one (parent = the input): fp16, bf16, fp32, onnx-fp16, onnx-int8, safetensors, or a tool profile (atc, trtexec, ovc, …)',
    )
    .argument('<ref>')
    .requiredOption('--to <id>', 'converter or profile id (see `modelreg converters`)')
    .option('--param <name=value...>', 'converter parameters', [])
    .option('--json', 'print the new version as JSON')
    .option(
      '--trust-profiles',
      'load <registry>/profiles.json (its tools run); also "trustProfiles": true in ~/.config/modelreg/config.json',
    )
    .action(async (ref: string, o: { to: string; param: string[]; json?: boolean; trustProfiles?: boolean }) =>
      withRegistry(async (r) => {
        const bar = new ProgressBar(process.stderr);
        const abort = new AbortController();
        const onSigint = () => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          const opts = {
            params: parseParams(o.param),
            signal: abort.signal,
            onProgress: (d: number, t: number) => bar.update('converting', d, t),
            log: (l: string) => (bar.done(), console.error(l)),
          };
          const builtin = BUILTIN_CONVERTERS.find((c) => c.id === o.to);
          const known = builtin ? undefined : await profiles(r, o.trustProfiles);
          const profile = known?.list.find((p) => p.id === o.to);
          if (!builtin && !profile)
            throw new RegistryError(
              `no converter or profile '${o.to}'; see modelreg converters${known?.ignored ? ` (${known.ignored} was not loaded: ${trustHint()})` : ''}`,
            );
          const v = builtin
            ? await convertVersion(r, ref, builtin, opts)
            : await convertWithProfile(r, ref, profile!, opts);
          bar.done();
          const c = v.details.conversion as { sizeBefore: number; sizeAfter: number; from: string };
          if (o.json) print(v);
          else
            console.log(
              `Converted ${c.from} to ${v.ref} (${v.format}): ${formatBytes(c.sizeBefore)} → ${formatBytes(c.sizeAfter)}`,
            );
        } finally {
          bar.done();
          process.removeListener('SIGINT', onSigint);
        }
      }),
    );

  program
    .command('converters')
    .description(
      'built-in converters and tool profiles (with whether the tool is installed); with REF only those that apply to it',
    )
    .argument('[ref]')
    .option('--json', 'machine-readable output')
    .option(
      '--trust-profiles',
      'load <registry>/profiles.json and check its tools (that runs them); also "trustProfiles": true in ~/.config/modelreg/config.json',
    )
    .action(async (ref: string | undefined, o: { json?: boolean; trustProfiles?: boolean }) =>
      withRegistry(async (r) => {
        const version = ref ? await r.resolve(ref) : undefined;
        const files = version ? await r.files(version.id) : undefined;
        const builtins = files ? convertersFor(files, BUILTIN_CONVERTERS, version?.details) : BUILTIN_CONVERTERS;
        const tools = (await profiles(r, o.trustProfiles)).list.filter(
          (p) => !files || files.some((f) => profileAccepts(p, f.path)),
        );
        const rows = [
          ...builtins.map((c) => ({
            id: c.id,
            kind: 'built-in',
            title: c.title,
            params: c.params,
            available: true,
            detail: c.description,
          })),
          ...(await Promise.all(tools.map(async (p) => ({ p, s: await detectTool(p) })))).map(({ p, s }) => ({
            id: p.id,
            kind: 'tool',
            title: p.title,
            params: p.params,
            available: s.available,
            detail: s.available ? `${s.path}${s.version ? ` (${s.version})` : ''}` : s.problem,
          })),
        ];
        if (o.json) return print(rows);
        for (const x of rows) {
          console.log(`${x.id.padEnd(12)} ${x.available ? ' ' : '✗'} ${x.title}  — ${x.detail}`);
          if (x.params.length)
            console.log(`${' '.repeat(15)}params: ${x.params.map((p) => `${p.name}=${p.default}`).join(' ')}`);
        }
      }),
    );
}
