/**
 * Import from a container image through the OCI distribution API: resolve the reference to a
 * manifest (an index picks linux/amd64), pin its digest, record the image config (entrypoint, env,
 * ports, labels) as the version's runtime, and optionally extract the files under a path inside the
 * image (e.g. /model) from its layers into the store: every blob checked against its digest, layers
 * applied in order with whiteouts, nothing taken from outside that path, links refused.
 */
import { createHash } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { Readable } from 'stream';
import * as tar from 'tar-stream';
import { createGunzip } from 'zlib';
import { CancelledError, InputError, RegistryError } from '../errors';
import { Registry } from '../registry/registry';
import { FileEntry, VersionRecord } from '../registry/types';
import { looksSecret, redactEnvEntry, REDACTED, redactUrlsIn } from '../util/redact';
import { ImportProgress, importTrainingOutput } from './trainingOutput';
import { parseJsonBounded } from '../util/json';

export interface ImageReference {
  registry: string;
  repository: string;
  /** A tag or a digest (sha256:…). */
  reference: string;
}

export interface ImageImportOptions {
  model?: string;
  /** Extract the files under this path inside the image (e.g. /model); without it only the runtime is recorded. */
  path?: string;
  /** Basic credentials (also used to get a bearer token when the registry asks for one). */
  username?: string;
  password?: string;
  /** http for 127.0.0.1/localhost registries unless set. */
  insecure?: boolean;
  /**
   * Token services (host or host:port) that may get the credentials although tokenRealmProblem
   * objects (another host than the registry's, or plain http): the user's explicit say-so.
   */
  allowTokenRealms?: string[];
  /** Asked about such a token service when it is not in allowTokenRealms; true sends the credentials, false cancels. */
  confirmTokenRealm?: (realm: string, problem: string) => Promise<boolean>;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** "registry.example.com/team/model:v3", "127.0.0.1:5000/m@sha256:…", "ubuntu" (Docker Hub). */
export function parseImageReference(ref: string): ImageReference {
  let rest = ref.trim();
  let registry = 'registry-1.docker.io';
  const first = rest.split('/')[0];
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first === 'docker.io' ? registry : first;
    rest = rest.slice(first.length + 1);
  } else if (!rest.includes('/')) rest = `library/${rest}`;
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) [rest, reference] = [rest.slice(0, at), rest.slice(at + 1)];
  else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) [rest, reference] = [rest.slice(0, colon), rest.slice(colon + 1)];
  }
  if (registry.includes('@'))
    throw new RegistryError(
      `not an image reference: ${registry.slice(registry.lastIndexOf('@') + 1)}/…: credentials do not belong in an image reference (give a user name, and the password from MODELREG_REGISTRY_PASSWORD)`,
    );
  if (!/^[a-z0-9]+([._/-][a-z0-9]+)*$/.test(rest)) throw new RegistryError(`not an image reference: ${ref}`);
  if (
    reference.startsWith('sha256:') ? !/^sha256:[0-9a-f]{64}$/.test(reference) : !/^[\w][\w.-]{0,127}$/.test(reference)
  )
    throw new RegistryError(`not a tag or digest: ${reference}`);
  return { registry, repository: rest, reference };
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Token services that are the registry's by design, on a host of their own. */
const KNOWN_TOKEN_HOSTS: Record<string, string[]> = { 'registry-1.docker.io': ['auth.docker.io'] };

/**
 * Why a registry's Bearer challenge may not get our Basic credentials, or undefined when it may: the
 * token service (`realm`) must be https (plain http only on loopback) and on the registry's own host
 * (Docker Hub's auth.docker.io too). Anything else is a registry sending our password elsewhere.
 */
export function tokenRealmProblem(registryHost: string, realm: URL): string | undefined {
  if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && LOOPBACK.test(realm.hostname)))
    return `it is not https (${realm.protocol.replace(/:$/, '')})`;
  const registry = new URL(`http://${registryHost}`).hostname.toLowerCase();
  const host = realm.hostname.toLowerCase();
  if (host !== registry && !(KNOWN_TOKEN_HOSTS[registry] ?? []).includes(host))
    return `it is not the registry's host (${registry})`;
  return undefined;
}

/** A failed fetch as a clear error, or a cancel. */
function unreachable(where: string, what: string) {
  return (e: Error): never => {
    if (e.name === 'AbortError') throw new CancelledError();
    throw new InputError(where, `cannot reach ${what} (${(e.cause as Error)?.message ?? e.message})`);
  };
}

/** One request through Distribution: the body is made anew for the retry after an auth challenge. */
export interface DistributionRequest {
  method?: string;
  accept?: string;
  headers?: Record<string, string>;
  body?: () => Buffer | ReadableStream<Uint8Array>;
}

/** A client for one repository: follows the Bearer/Basic challenge once per request and keeps the token. */
export class Distribution {
  private auth?: string;
  constructor(
    private readonly ref: ImageReference,
    private readonly opts: ImageImportOptions,
  ) {}

  private get origin(): string {
    const local = /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(this.ref.registry);
    return `${this.opts.insecure || local ? 'http' : 'https'}://${this.ref.registry}`;
  }

  /** A path under /v2/REPOSITORY/, or a URL the registry gave (an upload's Location, maybe relative). */
  url(p: string): URL {
    return /^https?:\/\/|^\//.test(p)
      ? new URL(p, this.origin)
      : new URL(`${this.origin}/v2/${this.ref.repository}/${p}`);
  }

  get(p: string, accept?: string): Promise<Response> {
    return this.request(p, { accept });
  }

  async request(p: string, o: DistributionRequest = {}): Promise<Response> {
    const where = `${this.ref.registry}/${this.ref.repository}`;
    const url = this.url(p);
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.accept) headers.accept = o.accept;
      // Credentials go to the registry's own origin only, never to a Location elsewhere.
      if (this.auth && url.origin === this.origin) headers.authorization = this.auth;
      const body = o.body?.();
      const init = { method: o.method ?? 'GET', headers, body, signal: this.opts.signal, duplex: 'half' };
      const r = await fetch(url, init as RequestInit).catch(unreachable(where, 'the registry'));
      if (r.status !== 401) return r;
      await r.body?.cancel();
      // Still 401 with what the challenge asked for (a token server may hand anonymous clients a token that grants nothing).
      if (attempt === 1)
        throw new InputError(
          where,
          this.opts.username === undefined
            ? 'the registry wants a user name and password (401)'
            : `the registry refused access for user ${this.opts.username} (401)`,
        );
      this.auth = await this.authorize(r.headers.get('www-authenticate') ?? '', where);
    }
    throw new Error('unreachable');
  }

  private async authorize(challenge: string, where: string): Promise<string> {
    const basic =
      this.opts.username !== undefined
        ? `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password ?? ''}`).toString('base64')}`
        : undefined;
    if (/^basic/i.test(challenge)) {
      if (!basic) throw new InputError(where, 'the registry wants a user name and password');
      return basic;
    }
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) throw new InputError(where, `unsupported authentication challenge: ${challenge || '(none)'}`);
    let u: URL;
    try {
      u = new URL(params.realm);
    } catch {
      throw new InputError(where, `the registry names a token service that is not a URL: ${params.realm}`);
    }
    const problem = basic ? tokenRealmProblem(this.ref.registry, u) : undefined;
    if (
      problem &&
      !(this.opts.allowTokenRealms ?? []).some(
        (h) => h.toLowerCase() === u.host.toLowerCase() || h.toLowerCase() === u.hostname.toLowerCase(),
      )
    ) {
      if (!this.opts.confirmTokenRealm)
        throw new InputError(
          where,
          `the registry asks to send your credentials to the token service ${u.origin}, and ${problem}; they were not sent. If you trust that service, allow it: --allow-token-realm ${u.host}`,
        );
      if (!(await this.opts.confirmTokenRealm(u.origin, problem))) throw new CancelledError();
    }
    if (params.service) u.searchParams.set('service', params.service);
    u.searchParams.set('scope', params.scope ?? `repository:${this.ref.repository}:pull`);
    const r = await fetch(u, { headers: basic ? { authorization: basic } : {}, signal: this.opts.signal }).catch(
      unreachable(where, `the token service at ${u.origin}`),
    );
    if (!r.ok)
      throw new InputError(
        where,
        `the token service refused (${r.status})${basic ? '' : '; the image may need a user name and password'}`,
      );
    const body = (await r.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new InputError(where, `the token service at ${u.origin} answered without a token`);
    return `Bearer ${token}`;
  }
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string };
}

async function jsonOrError(
  r: Response,
  where: string,
  what: string,
): Promise<{ body: Buffer; json: Record<string, unknown> }> {
  if (r.status === 404) throw new InputError(where, `${what} not found`);
  if (!r.ok) throw new InputError(where, `${what}: the registry answered ${r.status} ${r.statusText}`);
  const body = Buffer.from(await r.arrayBuffer());
  return { body, json: parseJsonBounded(body.toString('utf8'), where, { what }) as Record<string, unknown> };
}

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The manifest (an index resolves to its linux/amd64 entry) with its pinned digest, and the image config. */
export async function resolveImage(ref: ImageReference, opts: ImageImportOptions = {}) {
  const d = new Distribution(ref, opts);
  const where = `${ref.registry}/${ref.repository}:${ref.reference}`;
  let { body, json } = await jsonOrError(await d.get(`manifests/${ref.reference}`, MANIFEST_TYPES), where, 'manifest');
  let digest = digestOf(body);
  if (ref.reference.startsWith('sha256:') && digest !== ref.reference)
    throw new InputError(where, `the manifest's content has digest ${digest}, not the one asked for`);
  if (Array.isArray(json.manifests)) {
    const list = json.manifests as Descriptor[];
    const pick = list.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64') ?? list[0];
    if (!pick) throw new InputError(where, 'an empty image index');
    ({ body, json } = await jsonOrError(
      await d.get(`manifests/${pick.digest}`, MANIFEST_TYPES),
      where,
      'platform manifest',
    ));
    digest = digestOf(body);
    if (digest !== pick.digest) throw new InputError(where, `manifest digest mismatch (${digest} vs ${pick.digest})`);
  }
  const config = json.config as Descriptor;
  const layers = (json.layers ?? []) as Descriptor[];
  const cfg = await jsonOrError(await d.get(`blobs/${config.digest}`), where, 'image config');
  if (digestOf(cfg.body) !== config.digest) throw new InputError(where, 'the image config does not match its digest');
  const c = (cfg.json.config ?? {}) as Record<string, unknown>;
  const labels = (c.Labels ?? {}) as Record<string, unknown>;
  const runtime = {
    image: `${ref.registry}/${ref.repository}@${digest}`,
    tag: ref.reference.startsWith('sha256:') ? null : ref.reference,
    entrypoint: c.Entrypoint ?? null,
    cmd: c.Cmd ?? null,
    // Images often carry keys in ENV (HF_TOKEN=…, DATABASE_URL=postgres://user:pw@…): never stored, so never pushed or exported.
    env: Array.isArray(c.Env) ? c.Env.map((e) => (typeof e === 'string' ? redactEnvEntry(e) : e)) : [],
    exposedPorts: Object.keys((c.ExposedPorts as object) ?? {}),
    labels: Object.fromEntries(
      Object.entries(labels).map(([k, v]) => [
        k,
        typeof v !== 'string' ? v : looksSecret(k) ? REDACTED : redactUrlsIn(v),
      ]),
    ),
    workingDir: c.WorkingDir ?? null,
    os: cfg.json.os ?? null,
    architecture: cfg.json.architecture ?? null,
    created: cfg.json.created ?? null,
  };
  return { client: d, digest, layers, runtime };
}

/** What the layers leave under `root`: path → stored object; applied in order with OCI whiteouts. */
export function applyEntry(
  files: Map<string, FileEntry>,
  root: string,
  name: string,
  kind: 'file' | 'whiteout' | 'opaque',
  entry?: FileEntry,
): void {
  const rel = path.posix.relative(root, path.posix.join('/', name));
  if (rel.startsWith('..') || path.posix.isAbsolute(rel)) return; // outside the extracted path
  if (kind === 'opaque') {
    for (const k of [...files.keys()]) if (rel === '' || k.startsWith(rel + '/')) files.delete(k);
    return;
  }
  if (kind === 'whiteout') {
    for (const k of [...files.keys()]) if (k === rel || k.startsWith(rel + '/')) files.delete(k);
    return;
  }
  if (rel && entry) files.set(rel, { ...entry, path: rel });
}

export async function importContainerImage(
  registry: Registry,
  reference: string,
  opts: ImageImportOptions = {},
): Promise<VersionRecord> {
  const ref = parseImageReference(reference);
  const { client, layers, runtime } = await resolveImage(ref, opts);
  const pinned = runtime.image;
  const model =
    opts.model ??
    ref.repository
      .split('/')
      .pop()!
      .replace(/[^A-Za-z0-9._-]/g, '-');
  const source = { kind: 'container-image', uri: pinned };
  if (!opts.path) {
    // Only the runtime: a version that names the image, with no files of its own.
    const { id } = await registry.beginVersion(model, source);
    try {
      return await registry.completeVersion(id, {
        files: [],
        metrics: [],
        format: 'container-image',
        framework: null,
        parameterCount: null,
        git: null,
        params: {},
        signature: {},
        details: { runtime },
      });
    } catch (e) {
      await registry.abandonVersion(id);
      throw e;
    }
  }
  const root = path.posix.join('/', opts.path);
  const files = new Map<string, FileEntry>();
  const total = layers.reduce((s, l) => s + l.size, 0);
  let done = 0;
  for (const layer of layers) {
    if (opts.signal?.aborted) throw new CancelledError();
    const where = `${pinned} layer ${layer.digest.slice(7, 19)}`;
    const r = await client.get(`blobs/${layer.digest}`);
    if (!r.ok || !r.body) throw new InputError(where, `cannot download (${r.status})`);
    const hash = createHash('sha256');
    const body = Readable.fromWeb(r.body as import('stream/web').ReadableStream<Uint8Array>);
    body.on('data', (c: Buffer) => {
      hash.update(c);
      opts.onProgress?.({ phase: 'downloading', bytesDone: (done += c.length), bytesTotal: total });
    });
    const gz = /gzip/.test(layer.mediaType);
    const extract = tar.extract();
    (gz ? body.pipe(createGunzip()) : body).pipe(extract);
    body.on('error', (e) => extract.destroy(e));
    try {
      for await (const e of extract) {
        const h = e.header;
        const name = path.posix.normalize('/' + h.name).replace(/\/+$/, '');
        const base = path.posix.basename(name);
        if (base === '.wh..wh..opq') applyEntry(files, root, path.posix.dirname(name), 'opaque');
        else if (base.startsWith('.wh.'))
          applyEntry(files, root, path.posix.join(path.posix.dirname(name), base.slice(4)), 'whiteout');
        else if (h.type === 'file' || h.type === 'contiguous-file') {
          const rel = path.posix.relative(root, name);
          if (!rel.startsWith('..') && rel !== '') {
            const stored = await registry.store.ingestStream(e as unknown as AsyncIterable<Buffer>, {
              signal: opts.signal,
            });
            applyEntry(files, root, name, 'file', {
              path: rel,
              sha256: stored.sha256,
              size: stored.size,
              role: 'other',
            });
            continue;
          }
        } else if ((h.type === 'symlink' || h.type === 'link') && !path.posix.relative(root, name).startsWith('..')) {
          throw new InputError(
            where,
            `${h.name} is a ${h.type} to ${h.linkname}; links under ${root} are not imported`,
          );
        }
        e.resume();
      }
    } catch (e) {
      if (e instanceof InputError || e instanceof CancelledError) throw e;
      throw new InputError(where, `not a readable layer (${(e as Error).message})`);
    }
    if (`sha256:${hash.digest('hex')}` !== layer.digest)
      throw new InputError(where, 'the layer does not match its digest');
  }
  if (files.size === 0) throw new InputError(`${pinned}:${root}`, 'no files under this path in the image');
  // Linked under their names for detection, as an import from a folder.
  const staging = `${registry.store.tempPath()}-image`;
  try {
    for (const f of files.values()) await registry.store.linkTo(f.sha256, path.join(staging, ...f.path.split('/')));
    return await importTrainingOutput(registry, staging, {
      model,
      signal: opts.signal,
      onProgress: opts.onProgress,
      source,
      details: { runtime, extractedFrom: root },
    });
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
