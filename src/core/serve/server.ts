/**
 * `modelreg serve`: a local inference server for ONNX versions on the Open Inference Protocol (REST).
 * Each served version runs in its own OrtSession (onnxruntime in a child process), warmed up with one
 * inference before it counts as ready. A ref that follows an alias (or `latest`) is resolved again when
 * the registry's change stamp moves; a new version is loaded and warmed beside the old one and then
 * swapped in, so no request fails during the move.
 *
 * Where later parts plug in: `runner` (how a request's feeds run on a version: the dynamic batcher)
 * and `observe` (one event per request: the Prometheus metrics).
 */
import { createHash, randomBytes, timingSafeEqual } from 'crypto';
import { promises as fsp } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { RegistryError } from '../errors';
import type { TensorData, ValueMeta } from '../onnxrt/protocol';
import { OrtCrashError, OrtError, OrtSession, OrtTimeoutError } from '../onnxrt/session';
import type { Registry } from '../registry/registry';
import { parseRef } from '../registry/rows';
import type { VersionRecord } from '../registry/types';
import {
  EXTENSIONS,
  HEADER_LENGTH,
  inferResponse,
  matchRoute,
  metadataTensor,
  parseInfer,
  PLATFORM,
  Route,
} from './oip';
import { TensorError, zerosFor } from './tensors';

export const SERVER_NAME = 'modelreg';
export const SERVER_VERSION = '0.1.0';
export const DEFAULT_MAX_BODY = 64 * 1024 * 1024;

/** How a request's feeds run on a loaded version. The default calls the session; the batcher wraps it. */
export interface Runner {
  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  /** Called once the version is retired and idle, before its session is released. */
  close?(): Promise<void>;
}

/** One finished request, for logs and metrics. */
export interface RequestEvent {
  time: string;
  method: string;
  /** The path without the query. */
  path: string;
  route: Route['kind'] | 'unknown';
  model?: string;
  version?: string;
  status: number;
  ms: number;
  /** Time inside runner.run, for inference requests that got that far. */
  inferMs?: number;
}

export interface ServeOptions {
  /** Default 127.0.0.1; any other host needs a token (one is generated when none is given). */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  token?: string;
  /** Largest request body in bytes (413 beyond); default 64 MiB. */
  maxBodyBytes?: number;
  /** For the dynamic batcher (features.ts): the largest batch of rows run together, and how long one waits. */
  maxBatch?: number;
  batchDelayMs?: number;
  /** One line per request (never the payload), and notes such as an alias move. */
  log?: (line: string) => void;
  /** Every request's outcome (metrics plug in here). */
  observe?: (e: RequestEvent) => void;
  /** How feeds run on a version; default: straight on its session. */
  runner?: (v: LoadedVersion, opts: ServeOptions) => Runner;
  /** Routes beside the OIP ones (asked in order, for paths OIP does not have), behind the same token. */
  routes?: ExtraRoute[];
  /** How often the change stamp is read for alias moves; default 500 ms. */
  followIntervalMs?: number;
}

/** A version loaded in a session, warmed up. */
export class LoadedVersion {
  runner!: Runner;
  private inflight = 0;
  private retired = false;
  private released: Promise<void> | undefined;

  constructor(
    readonly record: VersionRecord,
    readonly session: OrtSession,
    readonly file: string,
  ) {}

  get name(): string {
    return this.record.model;
  }
  get version(): string {
    return String(this.record.number);
  }
  get inputs(): ValueMeta[] {
    return this.session.inputs;
  }
  get outputs(): ValueMeta[] {
    return this.session.outputs;
  }

  async run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    this.inflight++;
    try {
      return await this.runner.run(feeds);
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) void this.release();
    }
  }

  /** No new requests come here; the session goes once the ones running end. */
  retire(): Promise<void> {
    this.retired = true;
    return this.inflight === 0 ? this.release() : Promise.resolve();
  }

  release(): Promise<void> {
    this.released ??= (async () => {
      await this.runner?.close?.().catch(() => undefined);
      await this.session.release();
    })();
    return this.released;
  }
}

/** One ref given to serve: the version it names now (swapped when an alias moves). */
interface Slot {
  ref: string;
  model: string;
  follows: boolean;
  current?: LoadedVersion;
}

export interface ServedModel {
  name: string;
  version: string;
  ref: string;
  inputs: ReturnType<typeof metadataTensor>[];
  outputs: ReturnType<typeof metadataTensor>[];
}

export interface ServerHandle {
  url: string;
  host: string;
  port: number;
  /** The token every request needs; `tokenGenerated` when serve made it (print it once). */
  token?: string;
  tokenGenerated: boolean;
  /** Resolves once every version is loaded and warmed up (rejects if one cannot be). */
  ready: Promise<void>;
  models(): ServedModel[];
  /** Requests being handled now, and answered so far (for a view of running servers). */
  stats(): { active: number; answered: number };
  /** Stops accepting, lets requests in flight finish, releases the sessions. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** An answer with this status and `{"error": message}`; routes plugged in through `routes` throw it too. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** onnxruntime refused a request's feeds (a type or shape it checks itself): the client's error, 400. */
export function refusedInputs(v: LoadedVersion, e: OrtError): HttpError {
  return new HttpError(
    400,
    `onnxruntime refused the inputs of ${v.name} version ${v.version}: ${e.message.split('\n')[0]}`,
  );
}

/** An answer: a Buffer is sent as it is, anything else as JSON. */
export interface ServeReply {
  status: number;
  body: Buffer | object;
  headers?: Record<string, string>;
}

/** What a plugged-in route (MLflow's /invocations, /metrics…) gets: the request, and the served versions. */
export interface RouteContext {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  /** The body, within the size limit (413 beyond). */
  body(): Promise<Buffer>;
  /** The version serving `name` (and `version`); without a name, the first ref given. 404/503 as the OIP routes. */
  model(name?: string, version?: string): LoadedVersion;
  /** Every version served now. */
  models(): LoadedVersion[];
  /** The request's log and metrics event: set model and version on it. */
  event: RequestEvent;
}

/** A route beside the OIP ones: answers, or undefined when the path is not its. */
export type ExtraRoute = (ctx: RouteContext) => Promise<ServeReply | undefined> | ServeReply | undefined;

/** The version's ONNX file in the store (the first .onnx of its files, as the evaluator picks). */
async function onnxFile(registry: Registry, v: VersionRecord): Promise<string> {
  const files = await registry.files(v.id);
  const onnx = files.find((f) => f.path.toLowerCase().endsWith('.onnx'));
  if (!onnx) throw new RegistryError(`${v.ref} has no ONNX file; modelreg serve runs ONNX models (convert it first)`);
  return registry.store.objectPath(onnx.sha256);
}

/** Loads a version in its own session and runs it once on zeros: ready means it has answered. */
async function loadVersion(
  registry: Registry,
  v: VersionRecord,
  opts: ServeOptions,
  signal: AbortSignal,
): Promise<LoadedVersion> {
  const file = await onnxFile(registry, v);
  // Aborted when the server closes, after the requests in flight: it ends a load or warm-up still going.
  const session = await OrtSession.create(file, { signal }).catch((e: Error) => {
    throw new RegistryError(`${v.ref}: onnxruntime cannot load the model (${e.message.split('\n')[0]})`);
  });
  const loaded = new LoadedVersion(v, session, file);
  try {
    const feeds = Object.fromEntries(session.inputs.map((m) => [m.name, zerosFor(m)]));
    await session.run(feeds);
    loaded.runner = opts.runner?.(loaded, opts) ?? { run: (f) => session.run(f) };
  } catch (e) {
    await session.release();
    throw new RegistryError(`${v.ref}: the warm-up inference failed (${(e as Error).message.split('\n')[0]})`);
  }
  return loaded;
}

function sameToken(given: string, token: string): boolean {
  // Hashes have equal lengths, so the comparison takes the same time whatever was sent.
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(given), h(token));
}

/** Starts listening at once (health answers 503 until ready); `ready` says when the models are. */
export async function startServer(registry: Registry, refs: string[], opts: ServeOptions = {}): Promise<ServerHandle> {
  if (refs.length === 0) throw new RegistryError('nothing to serve: give one or more versions (NAME@vN, NAME@ALIAS)');
  const host = opts.host ?? '127.0.0.1';
  const tokenGenerated = !opts.token && !LOOPBACK.has(host);
  const token = opts.token || (tokenGenerated ? randomBytes(24).toString('base64url') : undefined);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const log = opts.log ?? (() => undefined);

  const slots: Slot[] = refs.map((ref) => {
    const p = parseRef(ref);
    return { ref, model: p.model, follows: p.number === undefined };
  });
  // Resolved before listening: a wrong ref is the caller's error, not a server that never gets ready.
  const records = await Promise.all(slots.map((s) => registry.resolve(s.ref)));
  for (const [i, v] of records.entries()) slots[i].model = v.model;
  // Two slots answering for the same version would make /versions/N ambiguous: refuse before loading.
  const given = new Map<string, string>();
  for (const [i, s] of slots.entries()) {
    const key = s.follows ? `follows ${s.ref}` : `pinned ${records[i].id}`;
    const earlier = given.get(key);
    if (earlier !== undefined)
      throw new RegistryError(`${earlier} and ${s.ref} both name ${s.follows ? s.ref : records[i].ref}; give it once`);
    given.set(key, s.ref);
  }

  let closing = false;
  let active = 0;
  let answered = 0;
  const loading = new AbortController();
  /** Loads after the first (alias moves, crashed sessions), one at a time. */
  let checking: Promise<void> = Promise.resolve();
  let idle: (() => void) | undefined;

  const find = (model: string, version?: string): { slot: Slot; v: LoadedVersion } => {
    const mine = slots.filter((s) => s.model === model);
    if (mine.length === 0) throw new HttpError(404, `no model '${model.slice(0, 130)}' is served`);
    const ready = mine.filter((s) => s.current);
    if (ready.length < mine.length && !version) throw new HttpError(503, `model '${model}' is not ready yet`);
    if (version === undefined) return { slot: mine[0], v: mine[0].current! };
    const slot = ready.find((s) => s.current!.version === version);
    if (!slot) {
      if (ready.length < mine.length) throw new HttpError(503, `model '${model}' is not ready yet`);
      throw new HttpError(
        404,
        `model '${model}' has no version '${version.slice(0, 40)}' served; served: ${ready.map((s) => s.current!.version).join(', ')}`,
      );
    }
    return { slot, v: slot.current! };
  };

  const versionsOf = (model: string) => [
    ...new Set(slots.filter((s) => s.model === model && s.current).map((s) => s.current!.version)),
  ];

  const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length']);
      if (declared > maxBody) return reject(new HttpError(413, `the request body is larger than ${maxBody} bytes`));
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          req.removeAllListeners('data');
          req.resume();
          reject(new HttpError(413, `the request body is larger than ${maxBody} bytes`));
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  /** A session that crashed or hung is gone: load the version again (503 meanwhile), in the alias checks' queue. */
  const revive = (slot: Slot, dead: LoadedVersion) => {
    if (slot.current !== dead) return;
    slot.current = undefined;
    void dead.release();
    log(`error: the onnxruntime process of ${dead.record.ref} ended; loading it again`);
    checking = checking.then(async () => {
      if (closing) return;
      try {
        slot.current = await loadVersion(registry, dead.record, opts, loading.signal);
        log(`${dead.record.ref}: loaded again`);
      } catch (e) {
        log(`error: ${dead.record.ref} cannot be loaded again (${(e as Error).message}); it stays unavailable`);
      }
    });
  };

  type Reply = ServeReply;

  /** A plugged-in route's answer for this request, if one takes it. */
  async function extra(req: http.IncomingMessage, url: URL, ev: RequestEvent): Promise<Reply | undefined> {
    const ctx: RouteContext = {
      method: req.method ?? 'GET',
      url,
      headers: req.headers,
      body: () => readBody(req),
      model: (name, version) => {
        const { v } = find(name ?? slots[0].model, version);
        ev.model = v.name;
        ev.version = v.version;
        return v;
      },
      models: () => slots.flatMap((s) => (s.current ? [s.current] : [])),
      event: ev,
    };
    for (const route of opts.routes ?? []) {
      const reply = await route(ctx);
      if (reply) return reply;
    }
    return undefined;
  }

  async function handle(req: http.IncomingMessage, route: Route, ev: RequestEvent): Promise<Reply> {
    if (req.method !== route.allow && !(req.method === 'HEAD' && route.allow === 'GET'))
      throw new HttpError(405, `${route.kind === 'infer' ? 'inference' : 'this route'} takes ${route.allow}`, {
        Allow: route.allow === 'GET' ? 'GET, HEAD' : route.allow,
      });
    const allReady = slots.every((s) => s.current);
    switch (route.kind) {
      case 'server':
        return { status: 200, body: { name: SERVER_NAME, version: SERVER_VERSION, extensions: EXTENSIONS } };
      case 'live':
        return { status: 200, body: { live: true } };
      case 'ready':
        return { status: allReady && !closing ? 200 : 503, body: { ready: allReady && !closing } };
    }
    ev.model = route.model;
    if (route.kind === 'modelReady') {
      const mine = slots.filter((s) => s.model === route.model);
      if (mine.length === 0) throw new HttpError(404, `no model '${route.model.slice(0, 130)}' is served`);
      try {
        const { v } = find(route.model, route.version);
        ev.version = v.version;
        return { status: 200, body: { name: route.model, ready: true } };
      } catch (e) {
        if (e instanceof HttpError && e.status === 503)
          return { status: 503, body: { name: route.model, ready: false } };
        throw e;
      }
    }
    const { slot, v } = find(route.model, route.version);
    ev.version = v.version;
    if (route.kind === 'model') {
      return {
        status: 200,
        body: {
          name: v.name,
          versions: versionsOf(v.name),
          platform: PLATFORM,
          inputs: v.inputs.map(metadataTensor),
          outputs: v.outputs.map(metadataTensor),
        },
      };
    }
    // Inference: this request stays on the version it found, even if the alias moves meanwhile.
    const body = await readBody(req);
    const headerLength = req.headers[HEADER_LENGTH];
    const parsed = parseInfer(body, typeof headerLength === 'string' ? headerLength : undefined, {
      label: `${v.name} version ${v.version}`,
      inputs: v.inputs,
      outputs: v.outputs,
    });
    const t0 = performance.now();
    let results: Record<string, TensorData>;
    try {
      results = await v.run(parsed.feeds);
    } catch (e) {
      if (e instanceof HttpError) throw e; // the runner's own answer (a full batch queue: 503)
      if (e instanceof OrtError) throw refusedInputs(v, e);
      // A crash, a hang, or a run on a session whose process already ended: that session is done for.
      revive(slot, v);
      const why = e instanceof OrtCrashError || e instanceof OrtTimeoutError ? e.message : (e as Error).message;
      throw new HttpError(500, `${v.name} version ${v.version}: ${why}; it is being loaded again`);
    } finally {
      ev.inferMs = performance.now() - t0;
    }
    const out = inferResponse(v.name, v.version, parsed, results);
    return out.headerLength === undefined
      ? { status: 200, body: out.body, headers: { 'Content-Type': 'application/json' } }
      : {
          status: 200,
          body: out.body,
          headers: {
            'Content-Type': 'application/octet-stream',
            'Inference-Header-Content-Length': String(out.headerLength),
          },
        };
  }

  const server = http.createServer((req, res) => {
    const start = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = matchRoute(url.pathname);
    const ev: RequestEvent = {
      time: new Date().toISOString(),
      method: req.method ?? '?',
      path: url.pathname,
      route: route?.kind ?? 'unknown',
      status: 0,
      ms: 0,
    };
    active++;
    const send = (r: Reply) => {
      const body = Buffer.isBuffer(r.body) ? r.body : Buffer.from(JSON.stringify(r.body));
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/json',
        ...r.headers,
        'Content-Length': body.length,
      };
      // A connection whose request body was not read (413) or a server closing: no keep-alive.
      if (closing || r.status === 413) headers.Connection = 'close';
      res.writeHead(r.status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const finish = () => {
      ev.status = res.statusCode;
      ev.ms = performance.now() - start;
      log(
        `${ev.time} ${ev.method} ${ev.path} ${ev.model ?? '-'} ${ev.version ?? '-'} ${ev.status} ${ev.ms.toFixed(1)}ms`,
      );
      opts.observe?.(ev);
      answered++;
      if (--active === 0) idle?.();
    };
    res.once('close', finish);
    void (async () => {
      try {
        if (token !== undefined) {
          const auth = req.headers.authorization ?? '';
          const m = /^Bearer (.+)$/.exec(auth);
          if (!m || !sameToken(m[1], token))
            throw new HttpError(401, 'this server needs Authorization: Bearer <token>', {
              'WWW-Authenticate': 'Bearer',
            });
        }
        if (closing) throw new HttpError(503, 'the server is shutting down');
        const reply = route ? await handle(req, route, ev) : await extra(req, url, ev);
        if (!reply) throw new HttpError(404, `no such route: ${req.method} ${url.pathname.slice(0, 200)}`);
        send(reply);
      } catch (e) {
        if (e instanceof HttpError) send({ status: e.status, body: { error: e.message }, headers: e.headers });
        else if (e instanceof TensorError) send({ status: 400, body: { error: e.message } });
        else {
          log(`error: ${(e as Error)?.stack ?? String(e)}`);
          send({ status: 500, body: { error: `internal error: ${(e as Error)?.message ?? String(e)}` } });
        }
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    const refused = (e: NodeJS.ErrnoException) => {
      const where = `${host}:${opts.port ?? 8000}`;
      if (e.code === 'EADDRINUSE')
        reject(new RegistryError(`${where} is in use; give another --port (0 picks a free one)`));
      else if (e.code === 'EACCES')
        reject(new RegistryError(`${where}: not allowed to listen there (ports below 1024 need privileges)`));
      else if (e.code === 'EADDRNOTAVAIL')
        reject(new RegistryError(`${where}: no such address on this machine (--host)`));
      else reject(e);
    };
    server.once('error', refused);
    server.listen(opts.port ?? 8000, host, () => {
      server.off('error', refused);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  // Load every version; the server is ready once all have answered their warm-up.
  const ready = (async () => {
    const loaded = await Promise.allSettled(records.map((r) => loadVersion(registry, r, opts, loading.signal)));
    const failed = loaded.find((l) => l.status === 'rejected');
    if (failed) {
      for (const l of loaded) if (l.status === 'fulfilled') await l.value.release();
      throw (failed as PromiseRejectedResult).reason;
    }
    loaded.forEach((l, i) => (slots[i].current = (l as PromiseFulfilledResult<LoadedVersion>).value));
  })();
  ready.catch(() => undefined); // the caller awaits it; an unobserved rejection must not end the process

  // Alias-following: re-resolve the moving refs when the change stamp does.
  const followers = slots.filter((s) => s.follows);
  let stamp: string | undefined;
  const check = () =>
    (checking = checking.then(async () => {
      for (const s of followers) {
        if (closing || !s.current) continue;
        let v: VersionRecord;
        try {
          v = await registry.resolve(s.ref);
        } catch (e) {
          log(`note: ${s.ref} no longer resolves (${(e as Error).message}); still serving ${s.current.record.ref}`);
          continue;
        }
        if (v.id === s.current.record.id) continue;
        log(`${s.ref} moved to ${v.ref}: loading it`);
        try {
          const next = await loadVersion(registry, v, opts, loading.signal);
          if (closing) {
            await next.release();
            continue;
          }
          const old = s.current;
          s.current = next; // new requests go to the new version; those running finish on the old one
          log(`${s.ref}: now serving ${v.ref} (was ${old.record.ref})`);
          void old.retire();
        } catch (e) {
          log(
            `error: ${s.ref} moved to ${v.ref}, which cannot be served (${(e as Error).message}); still serving ${s.current.record.ref}`,
          );
        }
      }
    }));
  let timer: NodeJS.Timeout | undefined;
  let unwatch: (() => Promise<void>) | undefined;
  if (followers.length > 0) {
    const stampFile = registry.changeStamp;
    const read = () => fsp.readFile(stampFile, 'utf8').catch(() => '');
    stamp = await read();
    timer = setInterval(() => {
      void read().then((now) => {
        if (now !== stamp) {
          stamp = now;
          void check();
        }
      });
    }, opts.followIntervalMs ?? 500);
    // A team registry announces changes (NOTIFY); a local one has only its stamp file.
    unwatch = await registry.watch(() => void check()).catch(() => undefined);
  }

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      if (timer) clearInterval(timer);
      await unwatch?.().catch(() => undefined);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (active > 0) await new Promise<void>((resolve) => (idle = resolve));
      server.closeAllConnections();
      await stopped;
      loading.abort();
      await ready.catch(() => undefined);
      await checking;
      await Promise.all(slots.map((s) => s.current?.release()));
    })());

  return {
    url: `http://${urlHost}:${addr.port}`,
    host,
    port: addr.port,
    token,
    tokenGenerated,
    ready,
    models: () =>
      slots.flatMap((s) =>
        s.current
          ? [
              {
                name: s.model,
                version: s.current.version,
                ref: s.ref,
                inputs: s.current.inputs.map(metadataTensor),
                outputs: s.current.outputs.map(metadataTensor),
              },
            ]
          : [],
      ),
    stats: () => ({ active, answered }),
    close,
  };
}

/** Starts the server and waits until every model is ready; closes it again if one cannot be. */
export async function serve(registry: Registry, refs: string[], opts: ServeOptions = {}): Promise<ServerHandle> {
  const h = await startServer(registry, refs, opts);
  try {
    await h.ready;
  } catch (e) {
    await h.close();
    throw e;
  }
  return h;
}
