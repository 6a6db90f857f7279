import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { openTeamRegistry, RegistryError, S3Connection, TeamRegistry } from '../../core';
import { objectStorageConnection, storedKeys } from '../objectStorageConnections';
import { setContext } from '../commands/register';

export const TEAM_PASSWORD_KEY = (url: string) => `modelRegistry.team.password/${url}`;

interface TeamSettings {
  registry: string;
  store: string;
  connection: string;
}

/**
 * The team registry named in settings (modelRegistry.team.*): a PostgreSQL database and a bucket
 * reached through one of the object storage connections. Opened on first use and again whenever the
 * settings change; the database password and the bucket's keys come from SecretStorage (or
 * PGPASSWORD/~/.pgpass and the AWS chain), never from settings.
 */
export class TeamRegistryService implements vscode.Disposable {
  private registry: Promise<TeamRegistry> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  /** Stops listening to the team database's change announcements. */
  private unwatch: Promise<(() => Promise<void>) | undefined> | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          e.affectsConfiguration('modelRegistry.team') ||
          e.affectsConfiguration('modelRegistry.objectStorage.connections')
        )
          void this.reopen();
      }),
    );
    void this.updateContext();
  }

  private settings(): TeamSettings {
    const c = vscode.workspace.getConfiguration('modelRegistry.team');
    return {
      registry: c.get<string>('registry') ?? '',
      store: c.get<string>('store') ?? '',
      connection: c.get<string>('connection') ?? '',
    };
  }

  /** Set up in settings (the view's welcome text offers to do it otherwise). */
  exists(): boolean {
    return !!this.settings().registry;
  }

  get location(): string {
    return this.settings().registry;
  }

  async get(): Promise<TeamRegistry> {
    if (!this.registry) {
      const opening = (this.registry = this.open());
      opening.catch(() => (this.registry = undefined));
      // Colleagues' pushes and alias moves arrive as announcements: refresh the view for them.
      this.unwatch = opening.then(
        (r) => r.watch((stamp) => stamp !== r.lastStamp && this.fireSoon()).catch(() => undefined),
        () => undefined,
      );
    }
    return this.registry;
  }

  private async open(): Promise<TeamRegistry> {
    const s = this.settings();
    if (!s.registry)
      throw new RegistryError(
        'no team registry is set up: set modelRegistry.team.registry (postgres://USER@HOST:PORT/DB) and modelRegistry.team.store (s3://BUCKET/PREFIX)',
      );
    if (!s.store)
      throw new RegistryError('the team registry needs its bucket: set modelRegistry.team.store (s3://BUCKET/PREFIX)');
    // Credentials never live in settings (they sync, and get committed with .vscode/settings.json).
    if (/^[^:]+:\/\/[^/@]*:[^/@]*@/.test(s.registry)) {
      throw new RegistryError(
        'modelRegistry.team.registry holds a password: remove it from the setting and use "Enter Team Registry Credentials…" (or PGPASSWORD, ~/.pgpass)',
      );
    }
    let connection: S3Connection = {};
    if (s.connection) {
      const c = objectStorageConnection(s.connection);
      if (!c)
        throw new RegistryError(
          `modelRegistry.team.connection names '${s.connection}', which is not in modelRegistry.objectStorage.connections`,
        );
      connection = {
        endpoint: c.endpoint,
        region: c.region,
        forcePathStyle: c.forcePathStyle,
        credentials: await storedKeys(this.secrets, c),
      };
    }
    const password = await this.secrets.get(TEAM_PASSWORD_KEY(s.registry));
    const workDir = path.join(os.tmpdir(), 'modelreg-team-vscode');
    return openTeamRegistry({ registry: s.registry, password, store: s.store, connection, workDir });
  }

  /** The team registry changed (here or elsewhere): refresh its tree once a burst of changes is over. */
  fireSoon(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.changed.fire(), 200);
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }

  async reopen(): Promise<void> {
    await this.closeRegistry();
    await this.updateContext();
    this.changed.fire();
  }

  private async updateContext(): Promise<void> {
    await setContext('teamConfigured', this.exists());
  }

  private async closeRegistry(): Promise<void> {
    const [old, unwatch] = [this.registry, this.unwatch];
    this.registry = this.unwatch = undefined;
    await unwatch?.then((stop) => stop?.()).catch(() => undefined);
    await old?.then((r) => r.close()).catch(() => undefined);
  }

  dispose(): void {
    clearTimeout(this.debounce);
    void this.closeRegistry();
    for (const d of this.disposables) d.dispose();
  }
}
