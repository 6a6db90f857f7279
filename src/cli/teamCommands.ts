import { Command } from 'commander';
import { createHash } from 'crypto';
import * as os from 'os';
import * as path from 'path';
import {
  openTeamRegistry,
  pullVersion,
  pushVersion,
  Registry,
  RegistryError,
  TeamRegistry,
  TransferResult,
} from '../core';
import { formatBytes } from '../shared/format';
import { withProgress } from './progress';

type WithRegistry = <T>(fn: (r: Registry) => Promise<T>) => Promise<T>;

export interface TeamOptions {
  store?: string;
  storeEndpoint?: string;
  storeRegion: string;
}

/** Opens the team registry at a postgres:// address, its objects in the --store bucket (credentials from the AWS chain). */
export async function openTeam(url: string, o: TeamOptions): Promise<TeamRegistry> {
  if (!o.store)
    throw new RegistryError('a team registry needs its bucket: --store s3://BUCKET/PREFIX (or MODELREG_TEAM_STORE)');
  // Its local working folder (change stamp, logs) is per team registry, outside any workspace.
  const workDir = path.join(
    os.tmpdir(),
    `modelreg-team-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`,
  );
  return openTeamRegistry({
    registry: url,
    store: o.store,
    connection: { endpoint: o.storeEndpoint, region: o.storeRegion },
    workDir,
  });
}

function transferLine(verb: 'Pushed' | 'Pulled', ref: string, r: TransferResult): string {
  if (r.copied.length === 0) return `${verb} ${ref} → ${r.version.ref} (already there)`;
  const ancestors = r.copied.length - 1;
  const moved = verb === 'Pushed' ? 'sent' : 'received';
  return `${verb} ${ref} → ${r.version.ref} (${ancestors ? `with ${ancestors} ancestor${ancestors > 1 ? 's' : ''}; ` : ''}${r.objectsSent} objects ${moved}, ${formatBytes(r.bytesSent)}; ${r.objectsSkipped} already there)`;
}

export function registerTeamCommands(
  program: Command,
  withRegistry: WithRegistry,
  team: () => TeamOptions,
  print: (value: unknown) => void,
): void {
  const teamUrl = (o: { team?: string }) => {
    const url = o.team ?? process.env.MODELREG_TEAM;
    if (!url) throw new RegistryError('which team registry? --team postgres://USER@HOST/DB (or MODELREG_TEAM)');
    return url;
  };
  for (const verb of ['push', 'pull'] as const) {
    program
      .command(verb)
      .description(
        verb === 'push'
          ? 'copy a local version (and the ancestors the team lacks) to the team registry; objects already there are not sent again'
          : 'copy a team version (and the ancestors missing here) into the local registry',
      )
      .argument('<ref>', verb === 'push' ? 'local NAME@vN, NAME@alias or NAME' : 'team NAME@vN, NAME@alias or NAME')
      .option(
        '--team <url>',
        'the team registry: postgres://USER@HOST:PORT/DB (default: MODELREG_TEAM); its bucket comes from --store',
      )
      .option('--json', 'print the result as JSON')
      .action(async (ref: string, o: { team?: string; json?: boolean }) => {
        const remote = await openTeam(teamUrl(o), team());
        try {
          await withRegistry((local) =>
            withProgress(verb, 'bytes', async (signal, onBytes) => {
              const opts = {
                signal,
                onProgress: (p: { bytes: number; totalBytes: number }) => onBytes(p.bytes, p.totalBytes),
              };
              const result =
                verb === 'push'
                  ? await pushVersion(local, remote, ref, opts)
                  : await pullVersion(remote, local, ref, opts);
              if (o.json) print(result);
              else console.log(transferLine(verb === 'push' ? 'Pushed' : 'Pulled', ref, result));
            }),
          );
        } finally {
          await remote.close();
        }
      });
  }
}
