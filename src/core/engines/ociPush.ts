/**
 * Push a version as an OCI image through the distribution API (the client import-image uses): one
 * gzipped tar layer holding the version's files under /model (as they are in the version: what
 * `import-image --path /model` reads back), or with layout triton a Triton model repository under
 * /models (what KServe mounts from an oci:// storageUri, and Triton images serve), an image config with labels naming the version, and an OCI manifest under the tag. Blobs the
 * registry already has are skipped (HEAD), so a re-push uploads only the manifest.
 */
import { createHash } from 'crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'fs';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import * as tar from 'tar-stream';
import { createGzip } from 'zlib';
import { CancelledError, InputError, RegistryError } from '../errors';
import { Distribution, ImageImportOptions, parseImageReference } from '../importers/containerImage';
import { Registry } from '../registry/registry';
import { tritonModel } from './triton';
import { VersionRecord } from '../registry/types';

export type PushImageOptions = Omit<ImageImportOptions, 'model' | 'path' | 'onProgress'> & {
  /** files (default): the version's files under /model; triton: a Triton repository under /models (ONNX versions). */
  layout?: 'files' | 'triton';
  /** With layout triton: as export --as triton takes them. */
  maxBatch?: number;
  batchDelayMs?: number;
  /** Bytes of the layer uploaded so far and in all (after it was packed). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
};

export interface PushImageResult {
  version: VersionRecord;
  /** registry/repository@sha256:… and the tag it was pushed under. */
  image: string;
  tag: string;
  digest: string;
  /** Where the files are in the image: /model, or /models for a Triton repository. */
  root: string;
  layer: { digest: string; size: number };
  /** Blobs sent, and blobs the registry already had. */
  uploaded: number;
  skipped: number;
}

export const IMAGE_MODEL_DIR = '/model';
/** Where KServe's OCI storage (modelcars) and Triton images look for the model repository. */
export const TRITON_MODELS_DIR = '/models';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A file in the layer: its path in the image (no leading /), from a stored object or bytes. */
interface LayerFile {
  name: string;
  size: number;
  sha256?: string;
  data?: Buffer;
}

/**
 * What the layer holds. files: the version's files under /model. triton: a Triton model repository
 * under /models (NAME/config.pbtxt, NAME/VERSION/model.onnx), the folder KServe reads an OCI
 * storageUri ("modelcar") from.
 */
async function layerFiles(
  registry: Registry,
  version: VersionRecord,
  opts: PushImageOptions,
): Promise<{ root: string; files: LayerFile[] }> {
  if (opts.layout === 'triton') {
    const m = await tritonModel(registry, version, opts);
    const dir = `${TRITON_MODELS_DIR.slice(1)}/${version.model}`;
    const config = Buffer.from(m.config);
    return {
      root: TRITON_MODELS_DIR,
      files: [
        { name: `${dir}/config.pbtxt`, size: config.length, data: config },
        ...m.files.map((f) => ({ name: `${dir}/${f.path}`, size: f.size, sha256: f.sha256 })),
      ],
    };
  }
  if (opts.layout !== undefined && opts.layout !== 'files')
    throw new InputError(`--layout ${String(opts.layout)}`, 'is not an image layout; give files or triton');
  const files = await registry.files(version.id);
  const root = IMAGE_MODEL_DIR.slice(1);
  return {
    root: IMAGE_MODEL_DIR,
    files: files.map((f) => ({ name: `${root}/${f.path}`, size: f.size, sha256: f.sha256 })),
  };
}

/**
 * The layer: its folders, then each file, all owned by root with the version's creation time, so
 * the same version packs to the same bytes (and its digest is found on a re-push).
 */
async function packLayer(registry: Registry, files: LayerFile[], mtime: Date, out: string, signal?: AbortSignal) {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : 1));
  const pack = tar.pack();
  const diff = createHash('sha256');
  const compressed = createHash('sha256');
  let size = 0;
  const fill = async () => {
    const dirs = new Set<string>();
    for (const f of sorted) {
      const parts = f.name.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    const base = { mtime, uid: 0, gid: 0, uname: 'root', gname: 'root' };
    for (const d of [...dirs].sort())
      await new Promise<void>((res, rej) =>
        pack.entry({ ...base, name: `${d}/`, type: 'directory', mode: 0o755 }, (e) => (e ? rej(e) : res())),
      );
    for (const f of sorted) {
      if (signal?.aborted) throw new CancelledError();
      const header = { ...base, name: f.name, size: f.size, mode: 0o644 };
      const data = f.data;
      if (data) await new Promise<void>((res, rej) => pack.entry(header, data, (e) => (e ? rej(e) : res())));
      else
        await pipeline(
          createReadStream(registry.store.objectPath(f.sha256!), { highWaterMark: 1 << 20 }),
          pack.entry(header),
        );
    }
    pack.finalize();
  };
  pack.on('data', (c: unknown) => void diff.update(c as Buffer));
  const gzip = createGzip({ level: 6 });
  gzip.on('data', (c: Buffer) => {
    compressed.update(c);
    size += c.length;
  });
  await Promise.all([
    fill().catch((e) => (pack.destroy(e), Promise.reject(e))),
    pipeline(pack, gzip, createWriteStream(out, { flags: 'wx' })),
  ]);
  return { digest: `sha256:${compressed.digest('hex')}`, diffId: `sha256:${diff.digest('hex')}`, size };
}

/** The registry's own words for a refusal ({"errors":[{"code","message"}]}), when it gives them. */
async function refusal(r: Response, what: string): Promise<string> {
  const text = await r.text().catch(() => '');
  let detail = '';
  try {
    const e = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    if (e) detail = `: ${[e.code, e.message].filter(Boolean).join(' ')}`;
  } catch {
    // not JSON: the status says enough
  }
  return `${what}: the registry answered ${r.status} ${r.statusText}${detail}`;
}

/** HEAD, else POST an upload and PUT the blob whole (the monolithic upload every registry takes). */
async function putBlob(
  client: Distribution,
  where: string,
  digest: string,
  size: number,
  body: () => Buffer | ReadableStream<Uint8Array>,
): Promise<'uploaded' | 'skipped'> {
  const head = await client.request(`blobs/${digest}`, { method: 'HEAD' });
  if (head.ok) return 'skipped';
  const start = await client.request('blobs/uploads/', { method: 'POST', headers: { 'content-length': '0' } });
  if (start.status !== 202) throw new InputError(where, await refusal(start, 'starting a blob upload'));
  await start.body?.cancel();
  const location = start.headers.get('location');
  if (!location) throw new InputError(where, 'the registry started an upload without saying where (no Location)');
  const url = client.url(location);
  url.searchParams.set('digest', digest);
  const put = await client.request(url.href, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body,
  });
  if (put.status !== 201) throw new InputError(where, await refusal(put, `uploading blob ${digest.slice(7, 19)}`));
  await put.body?.cancel();
  return 'uploaded';
}

export async function pushImage(
  registry: Registry,
  ref: string,
  target: string,
  opts: PushImageOptions = {},
): Promise<PushImageResult> {
  const image = parseImageReference(target);
  if (image.reference.startsWith('sha256:'))
    throw new InputError(target, 'a push needs a tag (REGISTRY/REPOSITORY:TAG), not a digest');
  const version = await registry.resolve(ref);
  if (version.status !== 'ready')
    throw new RegistryError(`${version.ref} is ${version.status}; only ready versions can be pushed`);
  if (version.fileCount === 0) throw new InputError(version.ref, 'has no files to put in an image');
  const where = `${image.registry}/${image.repository}:${image.reference}`;
  // A temp name gc knows (PID-HEX-word), so a killed push leaves nothing for long.
  const layerFile = `${registry.store.tempPath()}-layer`;
  try {
    const { root, files } = await layerFiles(registry, version, opts);
    const layer = await packLayer(registry, files, new Date(version.createdAt), layerFile, opts.signal);
    const labels = {
      'org.opencontainers.image.title': version.ref,
      'org.opencontainers.image.version': `v${version.number}`,
      'org.opencontainers.image.created': version.createdAt,
      'modelreg.ref': version.ref,
      'modelreg.format': version.format ?? '',
      'modelreg.model-dir': root,
    };
    const config = Buffer.from(
      JSON.stringify({
        created: version.createdAt,
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: labels, WorkingDir: root },
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
        history: [{ created: version.createdAt, created_by: 'modelreg push-image', comment: version.ref }],
      }),
    );
    const configDigest = sha256(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: { mediaType: CONFIG_TYPE, digest: configDigest, size: config.length },
        layers: [{ mediaType: LAYER_TYPE, digest: layer.digest, size: layer.size }],
        annotations: {
          'org.opencontainers.image.title': version.ref,
          'org.opencontainers.image.created': version.createdAt,
        },
      }),
    );
    const { onProgress: _progress, ...auth } = opts;
    const client = new Distribution(image, auth);
    let done = 0;
    opts.onProgress?.(0, layer.size);
    const layerBody = () => {
      done = 0; // a retry after an auth challenge sends it again
      const s = createReadStream(layerFile, { highWaterMark: 1 << 20 });
      s.on('data', (c) => opts.onProgress?.((done += c.length), layer.size));
      return Readable.toWeb(s) as unknown as ReadableStream<Uint8Array>;
    };
    const results = [
      await putBlob(client, where, layer.digest, layer.size, layerBody),
      await putBlob(client, where, configDigest, config.length, () => config),
    ];
    if (opts.signal?.aborted) throw new CancelledError();
    const put = await client.request(`manifests/${image.reference}`, {
      method: 'PUT',
      headers: { 'content-type': MANIFEST_TYPE },
      body: () => manifest,
    });
    if (put.status !== 201) throw new InputError(where, await refusal(put, 'storing the manifest'));
    await put.body?.cancel();
    const digest = sha256(manifest);
    const said = put.headers.get('docker-content-digest');
    if (said && said !== digest)
      throw new InputError(where, `the registry stored the manifest as ${said}, not ${digest} as sent`);
    return {
      version,
      image: `${image.registry}/${image.repository}@${digest}`,
      tag: image.reference,
      digest,
      root,
      layer: { digest: layer.digest, size: layer.size },
      uploaded: results.filter((x) => x === 'uploaded').length,
      skipped: results.filter((x) => x === 'skipped').length,
    };
  } finally {
    await fsp.rm(layerFile, { force: true });
  }
}
