import * as vscode from 'vscode';
import {
  browse,
  CancelledError,
  importContainerImage,
  importFromObjectStorage,
  InputError,
  parseImageReference,
  S3Connection,
  s3Client,
  s3Sdk,
  VersionRecord,
} from '../../core';
import { formatBytes } from '../../shared/format';
import { problemWith, showError } from '../errors';
import { withCancellableProgress } from '../progress';
import { RegistryService } from '../registry/registryService';
import { RegistryTreeProvider } from '../registry/registryTree';
import { TreeNode } from '../registry/treeNodes';
import { revealVersion } from './importCommands';
import { Connection, connections, legacySecretKey, secretKey, storedKeys } from '../objectStorageConnections';
import { COMMANDS } from '../commands/commandIds';
import { registerCommand } from '../commands/register';

/**
 * "Import from Object Storage…": pick a connection (or add one), a bucket, then browse folders and
 * objects in a QuickPick and import a folder or an object. Keys are kept in VS Code's SecretStorage,
 * never in settings; a connection without stored keys can use the AWS environment/profile chain.
 * An argument { connection, uri, model } skips the pickers (tests, keybindings).
 */
export function registerObjectStorageCommands(
  context: vscode.ExtensionContext,
  service: RegistryService,
  tree: RegistryTreeProvider,
  view: vscode.TreeView<TreeNode>,
): vscode.Disposable[] {
  return [
    registerCommand(
      COMMANDS.importFromObjectStorage,
      async (arg?: { connection: S3Connection; uri: string; model?: string }) => {
        try {
          let conn: S3Connection | undefined;
          let uri: string | undefined;
          if (arg?.connection && arg.uri) [conn, uri] = [arg.connection, arg.uri];
          else {
            const c = await pickConnection();
            if (!c) return undefined;
            conn = await withCredentials(context, c);
            if (!conn) return undefined;
            uri = await browseFor(conn, c);
          }
          if (!uri) return undefined;
          const v = await run(service, conn, uri, arg?.model);
          if (v) {
            tree.refresh();
            void vscode.window
              .showInformationMessage(
                `Imported ${v.ref} from ${uri} (${v.format ?? 'no weights detected'}, ${formatBytes(v.sizeBytes)}).`,
                'Reveal',
              )
              .then((c) => {
                if (c === 'Reveal') void revealVersion(tree, view, v);
              });
          }
          return v;
        } catch (e) {
          showError('Could not import from object storage', e);
          return undefined;
        }
      },
    ),
    // "Import from Container Image…": a reference, a path inside the image; registry passwords in SecretStorage.
    registerCommand(COMMANDS.importFromImage, async (arg?: { image: string; path?: string; model?: string }) => {
      const image =
        arg?.image ??
        (await vscode.window.showInputBox({
          title: 'Container image',
          prompt: 'registry/repository:tag or registry/repository@sha256:…',
          validateInput: problemWith(parseImageReference),
        }));
      if (!image) return undefined;
      const inside = arg
        ? arg.path
        : await vscode.window.showInputBox({
            title: `${image}: folder with the model`,
            prompt: 'e.g. /model — leave empty to record only the runtime (entrypoint, env, ports, labels)',
            value: '/model',
          });
      if (inside === undefined) return undefined;
      const host = parseImageReference(image).registry;
      const key = `modelRegistry.imageRegistry/${host}`;
      const attempt = async (creds?: { username: string; password: string }) =>
        vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Importing ${image}`, cancellable: true },
          async (progress, token) => {
            const abort = new AbortController();
            const sub = token.onCancellationRequested(() => abort.abort());
            try {
              // A token service elsewhere (another host, plain http) gets the password only if the user says so.
              const confirmTokenRealm = async (realm: string, problem: string) =>
                (await vscode.window.showWarningMessage(
                  `${host} asks to send your user name and password to the token service ${realm}, and ${problem}.`,
                  { modal: true, detail: 'Send them only if you trust that service.' },
                  'Send Credentials',
                )) === 'Send Credentials';
              return await importContainerImage(await service.get(), image, {
                path: inside || undefined,
                model: arg?.model,
                ...creds,
                confirmTokenRealm,
                signal: abort.signal,
                onProgress: (p) =>
                  progress.report({
                    message: `${p.phase} ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
                  }),
              });
            } finally {
              sub.dispose();
            }
          },
        );
      try {
        const stored = await context.secrets.get(key);
        let v: VersionRecord;
        try {
          v = await attempt(stored ? JSON.parse(stored) : undefined);
        } catch (e) {
          if (!(e instanceof InputError) || !/user name and password|token service refused/.test(e.message) || arg)
            throw e;
          const username = await vscode.window.showInputBox({ title: `${host}: user name`, ignoreFocusOut: true });
          const password =
            username &&
            (await vscode.window.showInputBox({
              title: `${host}: password or token`,
              password: true,
              ignoreFocusOut: true,
            }));
          if (!username || !password) return undefined;
          v = await attempt({ username, password });
          await context.secrets.store(key, JSON.stringify({ username, password }));
        }
        service.fireSoon();
        tree.refresh();
        void vscode.window
          .showInformationMessage(`Imported ${v.ref} from ${v.source.uri} (${v.fileCount} files).`, 'Reveal')
          .then((c) => {
            if (c === 'Reveal') void revealVersion(tree, view, v);
          });
        return v;
      } catch (e) {
        if (e instanceof CancelledError) return undefined;
        showError(`Could not import ${image}`, e);
        return undefined;
      }
    }),
    registerCommand(COMMANDS.forgetObjectStorageKeys, async () => {
      const c = await pickConnection(false);
      if (c) await Promise.all([context.secrets.delete(secretKey(c)), context.secrets.delete(legacySecretKey(c))]);
    }),
  ];
}

async function pickConnection(allowAdd = true): Promise<Connection | undefined> {
  const list = connections();
  const add = {
    label: '$(add) Add a Connection…',
    detail: 'Endpoint and region of AWS S3, Huawei OBS, MinIO, Swift s3api…',
  };
  const pick = await vscode.window.showQuickPick(
    [
      ...list.map((c) => ({ label: c.name, description: c.endpoint ?? 'AWS S3', detail: c.bucket, c })),
      ...(allowAdd ? [add] : []),
    ],
    { title: 'Object storage connection' },
  );
  if (!pick) return undefined;
  if ('c' in pick) return pick.c;
  const name = await vscode.window.showInputBox({
    title: 'Connection name',
    prompt: 'A name for this endpoint, e.g. obs-beijing',
    validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : 'letters, digits, . _ -'),
  });
  if (!name) return undefined;
  const endpoint = await vscode.window.showInputBox({
    title: `${name}: endpoint`,
    prompt: 'https://obs.cn-north-4.myhuaweicloud.com, http://127.0.0.1:9000 — empty for AWS S3',
    value: '',
  });
  if (endpoint === undefined) return undefined;
  const region = await vscode.window.showInputBox({ title: `${name}: region`, value: 'us-east-1' });
  if (region === undefined) return undefined;
  const c: Connection = { name, ...(endpoint ? { endpoint, forcePathStyle: true } : {}), region };
  await vscode.workspace
    .getConfiguration('modelRegistry')
    .update('objectStorage.connections', [...connections(), c], vscode.ConfigurationTarget.Global);
  return c;
}

/** Keys from SecretStorage, or asked once (and stored there), or the AWS default chain. */
export async function withCredentials(
  context: vscode.ExtensionContext,
  c: Connection,
): Promise<S3Connection | undefined> {
  const base: S3Connection = { endpoint: c.endpoint, region: c.region, forcePathStyle: c.forcePathStyle };
  const credentials = await storedKeys(context.secrets, c);
  if (credentials) return { ...base, credentials };
  const how = await vscode.window.showQuickPick(
    [
      {
        label: 'Enter an access key',
        detail: 'Stored in VS Code SecretStorage (the OS keychain), never in settings',
        keys: true,
      },
      {
        label: 'Use the AWS environment or profile',
        detail: 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws/credentials',
        keys: false,
      },
    ],
    { title: `Credentials for ${c.name} (${c.endpoint ?? 'AWS S3'}${c.bucket ? `, bucket ${c.bucket}` : ''})` },
  );
  if (!how) return undefined;
  if (!how.keys) return base;
  const accessKeyId = await vscode.window.showInputBox({ title: `${c.name}: access key id`, ignoreFocusOut: true });
  if (!accessKeyId) return undefined;
  const secretAccessKey = await vscode.window.showInputBox({
    title: `${c.name}: secret access key`,
    password: true,
    ignoreFocusOut: true,
  });
  if (!secretAccessKey) return undefined;
  await context.secrets.store(secretKey(c), JSON.stringify({ accessKeyId, secretAccessKey }));
  return { ...base, credentials: { accessKeyId, secretAccessKey } };
}

/** Bucket, then folders and objects one level at a time; returns the s3:// address to import. */
async function browseFor(conn: S3Connection, c: Connection): Promise<string | undefined> {
  let bucket = c.bucket;
  if (!bucket) {
    const client = s3Client(conn);
    try {
      const { Buckets } = await client.send(new (s3Sdk().ListBucketsCommand)({}));
      const pick = await vscode.window.showQuickPick(
        (Buckets ?? []).map((b) => ({ label: b.Name ?? '' })),
        { title: `${c.name}: bucket` },
      );
      bucket = pick?.label;
    } finally {
      client.destroy();
    }
    if (!bucket) return undefined;
  }
  const client = s3Client(conn);
  try {
    let prefix = '';
    for (;;) {
      const { folders, objects } = await browse(client, bucket, prefix);
      type Item = vscode.QuickPickItem & { go?: string; take?: string };
      const items: Item[] = [
        ...(prefix
          ? [
              {
                label: '$(cloud-download) Import this folder',
                description: `s3://${bucket}/${prefix}`,
                take: `s3://${bucket}/${prefix}`,
              },
              { label: '$(arrow-up) ..', go: prefix.replace(/[^/]+\/$/, '') },
            ]
          : []),
        ...folders.map((f) => ({ label: `$(folder) ${f.slice(prefix.length)}`, go: f })),
        ...objects.map((o) => ({
          label: `$(file) ${o.key.slice(prefix.length)}`,
          description: formatBytes(o.size),
          take: `s3://${bucket}/${o.key}`,
        })),
      ];
      const pick = await vscode.window.showQuickPick(items, {
        title: `s3://${bucket}/${prefix}`,
        placeHolder: 'Open a folder, or pick a folder or object to import',
      });
      if (!pick) return undefined;
      if (pick.take) return pick.take;
      prefix = pick.go ?? prefix;
    }
  } finally {
    client.destroy();
  }
}

async function run(
  service: RegistryService,
  conn: S3Connection,
  uri: string,
  model?: string,
): Promise<VersionRecord | undefined> {
  return withCancellableProgress(
    `Importing ${uri}`,
    `Import of ${uri} cancelled; nothing was registered.`,
    async ({ signal, say, advance }) => {
      const v = await importFromObjectStorage(await service.get(), conn, uri, {
        model,
        signal,
        onProgress: (p) => {
          if (p.phase !== 'downloading' || !p.bytesTotal) return say(`${p.phase}…`);
          advance(
            p.bytesDone,
            p.bytesTotal,
            `${p.file ?? ''} — ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
          );
        },
      });
      service.fireSoon();
      return v;
    },
  );
}
