/**
 * Real servers on 127.0.0.1 for tests: PostgreSQL, an S3-compatible store (OpenStack Swift with its
 * s3api middleware) and an OCI registry (the CNCF distribution registry, Debian's `docker-registry`).
 *
 * Install the Debian packages once with `bash scripts/services/install.sh`. Every start function
 * picks free ports, keeps all state in a fresh temp dir that stop() removes, and kills what it
 * started on stop() and when the test process exits (normally, by an exception or by
 * SIGINT/SIGTERM/SIGHUP; a SIGKILLed test process leaves its servers running).
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { Client } from 'pg';
import * as tar from 'tar-stream';

const INSTALL = 'run bash scripts/services/install.sh';

// ---------------------------------------------------------------------------------------------
// Cleanup when the test process goes away

const exitHooks = new Set<() => void>();
let hooksInstalled = false;

function runExitHooks(): void {
  for (const hook of [...exitHooks]) {
    try {
      hook();
    } catch {
      // best effort: the process is going away
    }
  }
  exitHooks.clear();
}

/** Registers a synchronous cleanup for process exit; returns a function that unregisters it. */
function onExit(hook: () => void): () => void {
  if (!hooksInstalled) {
    hooksInstalled = true;
    process.on('exit', runExitHooks);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        runExitHooks();
        // Nobody else handles it (mocha may): die of the signal as if we had not listened.
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
    }
  }
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An executable by name on PATH (or /usr/bin, /usr/sbin, /bin, /sbin), or undefined. */
function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/sbin', '/bin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function requireExecutable(name: string, what: string): string {
  const exe = findExecutable(name);
  if (!exe) throw new Error(`${what} not installed (no ${name}): ${INSTALL}`);
  return exe;
}

function tempDir(prefix: string, root = os.tmpdir()): string {
  return fs.mkdtempSync(path.join(root, prefix));
}

function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Free TCP ports on 127.0.0.1 (all held open together, so they are distinct). */
async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Runs a command to completion; the error carries its output. */
function run(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        env: options.env,
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 << 20,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout}${stderr}`.trim();
          reject(
            new Error(
              `${path.basename(cmd)} ${args.join(' ')} failed: ${error.message.split('\n')[0]}${output ? `\n${output}` : ''}`,
            ),
          );
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

function tailOf(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** HTTP status of a GET (no keep-alive, so nothing lingers), or undefined if it failed. */
function httpStatus(url: string, timeoutMs = 2000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers: { Connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** A long-running child with its output in a log file. */
interface Daemon {
  name: string;
  child: ChildProcess;
  log: string;
  /** Why it ended, once it has. */
  ended?: string;
  exited: Promise<void>;
}

function startDaemon(name: string, cmd: string, args: string[], log: string, env?: NodeJS.ProcessEnv): Daemon {
  const fd = fs.openSync(log, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  const daemon: Daemon = { name, child, log, exited: Promise.resolve() };
  daemon.exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      daemon.ended = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      daemon.ended ??= `failed to start: ${err.message}`;
      resolve();
    });
  });
  // A forgotten stop() must not keep the test process alive; the exit hook kills it then.
  child.unref();
  return daemon;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isRunning(d: Daemon): boolean {
  return d.ended === undefined && d.child.pid !== undefined;
}

function killNow(d: Daemon, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (isRunning(d)) {
    try {
      process.kill(d.child.pid!, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM, then SIGKILL if it has not exited after graceMs. */
async function stopDaemon(d: Daemon, graceMs = 5000): Promise<void> {
  if (!isRunning(d)) return;
  killNow(d, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  // This timer (ref'd) also keeps the event loop alive while we wait for the unref'd child.
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
  const result = await Promise.race([d.exited.then(() => 'exited' as const), timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    killNow(d, 'SIGKILL');
    await Promise.race([d.exited, sleep(2000)]);
  }
}

/** Polls until ready() is true; fails early (with logs) if one of the daemons ends. */
async function waitUntil(
  what: string,
  ready: () => Promise<boolean>,
  daemons: Daemon[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = daemons.find((d) => d.ended !== undefined);
    if (dead) throw new Error(`${dead.name} ${dead.ended} before ${what} was ready; its log:\n${tailOf(dead.log)}`);
    if (await ready()) return;
    if (Date.now() > deadline) {
      const logs = daemons.map((d) => `--- ${d.name}:\n${tailOf(d.log, 15)}`).join('\n');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${logs}`);
    }
    await sleep(100);
  }
}

const PORT_TAKEN = /address already in use|could not bind|EADDRINUSE|bind: address/i;

/** Retries a start whose port was taken between choosing it and binding it. */
async function withPortRetry<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (i >= attempts || !PORT_TAKEN.test(String((err as Error).message))) throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth, no password). */
  url: string;
  stop(): Promise<void>;
  /** Immediate shutdown (SIGQUIT: clients see their connections drop), for fault tests; data kept. */
  kill(): Promise<void>;
  /** Starts the server again on the same port after kill(), with its data. */
  restart(): Promise<void>;
  /** Creates an empty database (one per registry under test) and returns its URL. */
  createDatabase(name: string): Promise<string>;
}

function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const has = (bin: string) => ['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(bin, b)));
  if (has(path.join(root, '15', 'bin'))) return path.join(root, '15', 'bin');
  let versions: string[] = [];
  try {
    versions = fs
      .readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // not installed
  }
  for (const v of versions) if (has(path.join(root, v, 'bin'))) return path.join(root, v, 'bin');
  throw new Error(`postgres not installed: ${INSTALL}`);
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no passwd file
  }
  return undefined;
}

/**
 * A fresh PostgreSQL cluster (initdb in a temp dir, trust auth, fsync off) listening on
 * 127.0.0.1:PORT and a Unix socket in its temp dir. As root it runs as the `postgres` user.
 */
/** `password`: the postgres user needs it (scram-sha-256) instead of trust auth; the URL leaves it out. */
export async function startPostgres(opts: { password?: string } = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | undefined;
  let runuser = '';
  if (asRoot) {
    owner = lookupUser('postgres');
    if (!owner) throw new Error(`postgres not installed (no postgres user to run it as root): ${INSTALL}`);
    runuser = requireExecutable('runuser', 'runuser (util-linux)');
  }
  const as = (exe: string, args: string[]): [string, string[]] =>
    asRoot ? [runuser, ['-u', 'postgres', '--', exe, ...args]] : [exe, args];

  // The postgres user must be able to reach the dir: use /tmp when TMPDIR is private to root.
  let parent = os.tmpdir();
  if (asRoot && (fs.statSync(parent).mode & 0o001) === 0) parent = '/tmp';
  const dir = tempDir('modelreg-pg-', parent);
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'postgres.log');
  const pidOf = (): number | undefined => {
    try {
      const pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const killPostmaster = () => {
    const pid = pidOf();
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT'); // immediate shutdown; the postmaster takes its backends along
      } catch {
        // gone
      }
    }
  };
  const unhook = onExit(() => {
    killPostmaster();
    removeDir(dir);
  });

  try {
    if (owner) fs.chownSync(dir, owner.uid, owner.gid);
    const auth = ['--auth=trust'];
    if (opts.password !== undefined) {
      const pwfile = path.join(dir, 'pwfile');
      fs.writeFileSync(pwfile, `${opts.password}\n`);
      if (owner) fs.chownSync(pwfile, owner.uid, owner.gid);
      auth.splice(0, 1, '--auth=scram-sha-256', `--pwfile=${pwfile}`);
    }
    await run(
      ...as(path.join(bin, 'initdb'), [
        '-D',
        data,
        '-U',
        'postgres',
        ...auth,
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ]),
    );
    const start = async (p: number) => {
      const options = [
        '-c listen_addresses=127.0.0.1',
        `-p ${p}`,
        `-k '${dir}'`,
        '-c fsync=off',
        '-c full_page_writes=off',
        '-c synchronous_commit=off',
      ].join(' ');
      try {
        await run(...as(path.join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', options, '-w', '-t', '60', 'start']));
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${tailOf(log)}`, { cause: err });
      }
    };
    const port = await withPortRetry(async () => {
      const [p] = await freePorts(1);
      await start(p);
      return p;
    });
    const kill = async () => {
      const pid = pidOf();
      killPostmaster();
      for (let i = 0; pid && i < 300 && pidAlive(pid); i++) await sleep(50);
    };

    let stopped: Promise<void> | undefined;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      createDatabase: async (name) => {
        const url = `postgres://postgres${opts.password === undefined ? '' : `:${encodeURIComponent(opts.password)}`}@127.0.0.1:${port}`;
        const admin = new Client({ connectionString: `${url}/postgres` });
        await admin.connect();
        try {
          await admin.query(`CREATE DATABASE ${name}`);
        } finally {
          await admin.end();
        }
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      kill,
      restart: async () => {
        await kill();
        await start(port);
      },
      stop: () =>
        (stopped ??= (async () => {
          try {
            await run(...as(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']));
          } catch {
            killPostmaster();
            await sleep(200);
          }
          removeDir(dir);
          unhook();
        })()),
    };
  } catch (err) {
    killPostmaster();
    removeDir(dir);
    unhook();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// OpenStack Swift with s3api

/** The environment that points the CLI at a team registry on these servers (bucket 'team'). */
export function teamCliEnv(pg: PostgresServer, swift: SwiftS3Server): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MODELREG_TEAM: pg.url,
    MODELREG_TEAM_STORE: 's3://team/registry',
    MODELREG_TEAM_STORE_ENDPOINT: swift.endpoint,
    MODELREG_TEAM_STORE_REGION: swift.region,
    AWS_ACCESS_KEY_ID: swift.accessKeyId,
    AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
  };
}

export interface SwiftS3Server {
  /** http://127.0.0.1:PORT (the proxy; use forcePathStyle). */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
  /** SIGKILLs the proxy (the storage servers keep running), for fault tests; stop() still cleans up. */
  kill(): void;
  /** Starts the proxy again on the same port (after kill(); a running proxy is stopped first), data kept. */
  restart(): Promise<void>;
}

/**
 * Runs a Swift executable with swift.conf taken from our temp dir. Swift 2.30 reads swift.conf
 * (hash prefix/suffix, storage policies, constraints) only from /etc/swift/swift.conf;
 * `swift_dir` in a server conf moves the rings, not swift.conf. So point the module constant at
 * ours before anything reads it, then run the executable as its own __main__.
 */
const SWIFT_WRAPPER = [
  'import sys, runpy',
  'import swift.common.utils as utils',
  'utils.SWIFT_CONF_FILE = sys.argv.pop(1)',
  'sys.argv = sys.argv[1:]',
  'runpy.run_path(sys.argv[0], run_name="__main__")',
].join('\n');

/** swift-ring-builder create/add/rebalance for the three rings, in one interpreter (each CLI start costs ~1 s). */
const SWIFT_RINGS = [
  'import sys',
  'import swift.common.utils as utils',
  'utils.SWIFT_CONF_FILE = sys.argv[1]',
  'from swift.cli.ringbuilder import main',
  'swift_dir = sys.argv[2]',
  "for kind, port in zip(('account', 'container', 'object'), sys.argv[3:6]):",
  "    builder = '%s/%s.builder' % (swift_dir, kind)",
  "    for args in (['create', '4', '1', '0'], ['add', 'r1z1-127.0.0.1:%s/d1' % port, '100'], ['rebalance']):",
  '        try:',
  "            main(['swift-ring-builder', builder] + args)",
  '        except SystemExit as e:',
  '            if e.code not in (None, 0, 1):  # 1 is EXIT_WARNING',
  "                sys.exit('swift-ring-builder %s %s failed (%s)' % (builder, ' '.join(args), e.code))",
].join('\n');

function interpreterOf(script: string): string {
  try {
    const first = fs.readFileSync(script, 'utf8').split('\n')[0];
    const m = /^#!\s*(\S+)/.exec(first);
    if (m && !m[1].endsWith('/env')) return m[1];
  } catch {
    // fall through
  }
  return '/usr/bin/python3';
}

function ini(sections: Record<string, Record<string, string | number | boolean>>): string {
  return Object.entries(sections)
    .map(
      ([name, values]) =>
        `[${name}]\n${Object.entries(values)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n')}\n`,
    )
    .join('\n');
}

/**
 * A single-node Swift (one device per ring, one replica) with s3api + tempauth on 127.0.0.1.
 * S3 credentials: access key `test:tester`, secret `testing`, region us-east-1.
 */
export async function startSwiftS3(): Promise<SwiftS3Server> {
  const exes = {
    proxy: requireExecutable('swift-proxy-server', 'swift'),
    account: requireExecutable('swift-account-server', 'swift'),
    container: requireExecutable('swift-container-server', 'swift'),
    object: requireExecutable('swift-object-server', 'swift'),
  };
  requireExecutable('swift-ring-builder', 'swift');
  const python = interpreterOf(exes.proxy);
  if (!fs.existsSync(python)) throw new Error(`swift not installed (no ${python}): ${INSTALL}`);
  return withPortRetry(() => startSwiftOnce(exes, python));
}

async function startSwiftOnce(
  exes: Record<'proxy' | 'account' | 'container' | 'object', string>,
  python: string,
): Promise<SwiftS3Server> {
  const dir = tempDir('modelreg-swift-');
  const daemons: Daemon[] = [];
  const unhook = onExit(() => {
    for (const d of daemons) killNow(d);
    removeDir(dir);
  });
  const env: NodeJS.ProcessEnv = { ...process.env, EVENTLET_NO_GREENDNS: 'yes' }; // skips ~0.7 s of dnspython imports per process
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;

  try {
    const swiftConf = path.join(dir, 'swift.conf');
    fs.mkdirSync(path.join(dir, 'srv', 'd1'), { recursive: true });
    const [proxyPort, accountPort, containerPort, objectPort] = await freePorts(4);
    fs.writeFileSync(
      swiftConf,
      ini({
        'swift-hash': {
          swift_hash_path_prefix: randomBytes(8).toString('hex'),
          swift_hash_path_suffix: randomBytes(8).toString('hex'),
        },
        'storage-policy:0': { name: 'Policy-0', default: 'yes' },
      }),
    );
    const common = (name: string, port: number) => ({
      bind_ip: '127.0.0.1',
      bind_port: port,
      bind_timeout: 3, // default 30 s of retrying a taken port
      workers: 0, // serve in this process: one pid per server, nothing forked
      user: os.userInfo().username,
      swift_dir: dir,
      devices: path.join(dir, 'srv'),
      mount_check: false, // d1 is a plain directory
      disable_fallocate: true,
      log_name: name,
      // Logs go to stderr (-v) = our log file; syslog to the discard port instead of /dev/log.
      log_udp_host: '127.0.0.1',
      log_udp_port: 9,
    });
    for (const [kind, port] of [
      ['account', accountPort],
      ['container', containerPort],
      ['object', objectPort],
    ] as const) {
      fs.writeFileSync(
        path.join(dir, `${kind}-server.conf`),
        ini({
          DEFAULT: common(`${kind}-server`, port),
          'pipeline:main': { pipeline: `healthcheck ${kind}-server` },
          'filter:healthcheck': { use: 'egg:swift#healthcheck' },
          [`app:${kind}-server`]: { use: `egg:swift#${kind}` },
        }),
      );
    }
    fs.writeFileSync(
      path.join(dir, 'proxy-server.conf'),
      ini({
        DEFAULT: common('proxy-server', proxyPort),
        'pipeline:main': {
          pipeline:
            'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server',
        },
        'app:proxy-server': { use: 'egg:swift#proxy', account_autocreate: true },
        'filter:catch_errors': { use: 'egg:swift#catch_errors' },
        'filter:gatekeeper': { use: 'egg:swift#gatekeeper' },
        'filter:healthcheck': { use: 'egg:swift#healthcheck' },
        'filter:proxy-logging': { use: 'egg:swift#proxy_logging' },
        // tempauth refuses to work without a cache object ("Memcache required"), but does not need
        // a memcached: point it at a port nobody listens on and give up on the first error (the
        // proxy then simply caches nothing).
        'filter:cache': {
          use: 'egg:swift#memcache',
          memcache_servers: '127.0.0.1:1',
          memcache_max_connections: 1,
          error_suppression_limit: 0,
          error_suppression_interval: 86400,
        },
        'filter:listing_formats': { use: 'egg:swift#listing_formats' },
        'filter:s3api': { use: 'egg:swift#s3api', location: 'us-east-1' },
        'filter:tempauth': { use: 'egg:swift#tempauth', user_test_tester: 'testing .admin' },
        'filter:copy': { use: 'egg:swift#copy' },
        'filter:slo': { use: 'egg:swift#slo' },
        'filter:dlo': { use: 'egg:swift#dlo' },
      }),
    );

    const startServer = (kind: keyof typeof exes) => {
      const d = startDaemon(
        `swift-${kind}-server`,
        python,
        ['-c', SWIFT_WRAPPER, swiftConf, exes[kind], path.join(dir, `${kind}-server.conf`), '-v'],
        path.join(dir, `${kind}.log`),
        env,
      );
      daemons.push(d);
      return d;
    };
    // The storage servers need no rings to start: build the rings meanwhile; the proxy needs them.
    startServer('account');
    startServer('container');
    startServer('object');
    await run(
      python,
      ['-c', SWIFT_RINGS, swiftConf, dir, String(accountPort), String(containerPort), String(objectPort)],
      { env, cwd: dir },
    );
    let proxy = startServer('proxy');

    const ports = [proxyPort, accountPort, containerPort, objectPort];
    await waitUntil(
      'swift (proxy and storage servers answering /healthcheck)',
      async () =>
        (await Promise.all(ports.map((p) => httpStatus(`http://127.0.0.1:${p}/healthcheck`)))).every((s) => s === 200),
      daemons,
      90_000,
    );

    let stopped: Promise<void> | undefined;
    return {
      endpoint: `http://127.0.0.1:${proxyPort}`,
      region: 'us-east-1',
      accessKeyId: 'test:tester',
      secretAccessKey: 'testing',
      kill: () => killNow(proxy, 'SIGKILL'),
      restart: async () => {
        if (stopped) throw new Error('swift was stopped');
        await stopDaemon(proxy);
        daemons.splice(daemons.indexOf(proxy), 1);
        proxy = startServer('proxy');
        await waitUntil(
          'the restarted swift proxy (/healthcheck)',
          async () => (await httpStatus(`http://127.0.0.1:${proxyPort}/healthcheck`)) === 200,
          [proxy],
          60_000,
        );
      },
      stop: () =>
        (stopped ??= (async () => {
          await Promise.all(daemons.map((d) => stopDaemon(d)));
          removeDir(dir);
          unhook();
        })()),
    };
  } catch (err) {
    for (const d of daemons) killNow(d);
    await Promise.all(daemons.map((d) => Promise.race([d.exited, sleep(2000)])));
    removeDir(dir);
    unhook();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// OCI registry

export interface OciRegistry {
  /** 127.0.0.1:PORT (plain http). */
  host: string;
  /** The one user of a registry with auth (a fresh password each start). */
  credentials?: { username: string; password: string };
  /** With auth 'token': every request the token server answered, in order. */
  tokenRequests?: TokenRequest[];
  stop(): Promise<void>;
}

export interface OciRegistryOptions {
  /**
   * 'htpasswd': HTTP basic auth against a bcrypt htpasswd file. 'token': the distribution token
   * flow: the registry answers 401 with a Bearer challenge naming a token server (run in this
   * process) that hands out JWTs signed by a key whose certificate the registry trusts.
   * Without it the registry is anonymous.
   */
  auth?: 'htpasswd' | 'token';
  /** With auth 'token': the host name the realm is written with (default 127.0.0.1), e.g. 'localhost' for a token service on another host than the registry's. */
  tokenRealmHost?: string;
}

/** Debian's docker-registry (CNCF distribution) with filesystem storage in a temp dir. */
export async function startOciRegistry(options: OciRegistryOptions = {}): Promise<OciRegistry> {
  const exe = requireExecutable('docker-registry', 'docker-registry');
  return withPortRetry(() => startRegistryOnce(exe, options.auth, options.tokenRealmHost));
}

async function startRegistryOnce(
  exe: string,
  auth: OciRegistryOptions['auth'],
  tokenRealmHost?: string,
): Promise<OciRegistry> {
  const dir = tempDir('modelreg-registry-');
  let daemon: Daemon | undefined;
  let tokens: TokenServer | undefined;
  const unhook = onExit(() => {
    if (daemon) killNow(daemon);
    removeDir(dir);
  });
  try {
    const [port] = await freePorts(1);
    const config = path.join(dir, 'config.yml');
    const q = JSON.stringify; // a JSON string is a YAML string
    const credentials = auth ? { username: 'tester', password: randomBytes(12).toString('base64url') } : undefined;
    let authConfig: string[] = [];
    if (auth === 'htpasswd') {
      const htpasswd = path.join(dir, 'htpasswd');
      fs.writeFileSync(htpasswd, `${credentials!.username}:${await bcryptHash(credentials!.password)}\n`);
      authConfig = ['auth:', '  htpasswd:', '    realm: "modelreg-test"', `    path: ${q(htpasswd)}`];
    } else if (auth === 'token') {
      tokens = await startTokenServer(dir, credentials!);
      const realm = tokenRealmHost ? tokens.realm.replace('//127.0.0.1:', `//${tokenRealmHost}:`) : tokens.realm;
      authConfig = [
        'auth:',
        '  token:',
        `    realm: ${q(realm)}`,
        `    service: ${q(TOKEN_SERVICE)}`,
        `    issuer: ${q(TOKEN_ISSUER)}`,
        `    rootcertbundle: ${q(tokens.cert)}`,
      ];
    }
    fs.writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${q(path.join(dir, 'data'))}`,
        '  delete:',
        '    enabled: true',
        '  maintenance:',
        '    uploadpurging:',
        '      enabled: false',
        'http:',
        `  addr: ${q(`127.0.0.1:${port}`)}`,
        `  secret: ${q(randomBytes(16).toString('hex'))}`,
        ...authConfig,
        '',
      ].join('\n'),
    );
    // REGISTRY_* variables would override the config file.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
    daemon = startDaemon('docker-registry', exe, ['serve', config], path.join(dir, 'registry.log'), env);
    const host = `127.0.0.1:${port}`;
    // With auth, an anonymous GET /v2/ is answered 401 once the registry is up.
    await waitUntil(
      'docker-registry (GET /v2/)',
      async () => (await httpStatus(`http://${host}/v2/`)) === (auth ? 401 : 200),
      [daemon],
      30_000,
    );

    const d = daemon;
    const t = tokens;
    let stopped: Promise<void> | undefined;
    return {
      host,
      credentials,
      tokenRequests: t?.requests,
      stop: () =>
        (stopped ??= (async () => {
          await stopDaemon(d);
          await t?.close();
          removeDir(dir);
          unhook();
        })()),
    };
  } catch (err) {
    if (daemon) {
      killNow(daemon);
      await Promise.race([daemon.exited, sleep(2000)]);
    }
    await tokens?.close();
    removeDir(dir);
    unhook();
    throw err;
  }
}

/**
 * A bcrypt hash (cost 5, as `htpasswd -B`) for an htpasswd file: the C library's crypt()
 * (libxcrypt on Debian) through perl, so neither apache2-utils nor an npm package is needed.
 */
async function bcryptHash(password: string): Promise<string> {
  const perl = requireExecutable('perl', 'perl');
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const salt = [...randomBytes(22)].map((b) => alphabet[b & 63]).join('');
  const hash = await run(perl, ['-e', 'print crypt($ARGV[0], $ARGV[1])', '--', password, `$2b$05$${salt}`]);
  if (!/^\$2b\$05\$[./A-Za-z0-9]{53}$/.test(hash))
    throw new Error(`perl's crypt() made no bcrypt hash (got ${JSON.stringify(hash)}): this C library has no bcrypt`);
  return hash;
}

// The distribution token flow (https://distribution.github.io/distribution/spec/auth/token/):
// the client GETs REALM?service=…&scope=repository:NAME:pull with its basic credentials and gets
// a JWT whose `access` claim lists what it may do; the registry checks issuer, audience, times
// and the signature, the signing key coming from the certificate in the `x5c` header, which
// must chain to the registry's rootcertbundle (here: that self-signed certificate itself).

const TOKEN_SERVICE = 'modelreg-test-registry';
const TOKEN_ISSUER = 'modelreg-test-token-server';

export interface TokenRequest {
  /** The basic-auth user, or null for an anonymous request. */
  user: string | null;
  service: string | null;
  scopes: string[];
  /** 200 with a token, or 401. */
  status: number;
}

interface TokenServer {
  /** http://127.0.0.1:PORT/token */
  realm: string;
  /** The PEM certificate of the signing key (the registry's rootcertbundle). */
  cert: string;
  requests: TokenRequest[];
  close(): Promise<void>;
}

/**
 * Right credentials: a token granting every scope asked for. No credentials: a token granting
 * nothing (as Docker Hub and most token servers do for private repositories). Wrong ones: 401.
 */
async function startTokenServer(
  dir: string,
  credentials: { username: string; password: string },
): Promise<TokenServer> {
  const openssl = requireExecutable('openssl', 'openssl');
  const keyFile = path.join(dir, 'token.key');
  const cert = path.join(dir, 'token.crt');
  await run(openssl, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    '/CN=modelreg test token issuer',
  ]);
  const key = createPrivateKey(fs.readFileSync(keyFile));
  const x5c = [new X509Certificate(fs.readFileSync(cert)).raw.toString('base64')];
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const requests: TokenRequest[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const [user, ...pass] = basic ? Buffer.from(basic[1], 'base64').toString('utf8').split(':') : [];
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    const ok =
      url.pathname === '/token' &&
      (!basic || (user === credentials.username && pass.join(':') === credentials.password));
    requests.push({
      user: basic ? user : null,
      service: url.searchParams.get('service'),
      scopes,
      status: ok ? 200 : 401,
    });
    if (!ok) {
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Basic realm="modelreg-test-token"',
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'wrong user name or password' }] }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = basic
      ? scopes
          .map((s) => /^([^:]+):(.+):([^:]*)$/.exec(s))
          .filter((m) => m !== null)
          .map((m) => ({ type: m[1], name: m[2], actions: m[3].split(',') }))
      : [];
    const claims = {
      iss: TOKEN_ISSUER,
      sub: user ?? '',
      aud: TOKEN_SERVICE,
      exp: now + 300,
      nbf: now - 5,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const signed = `${b64({ typ: 'JWT', alg: 'ES256', x5c })}.${b64(claims)}`;
    // JWS wants ES256 as the raw r||s pair, not DER.
    const signature = sign('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token: `${signed}.${signature}`,
        expires_in: 300,
        issued_at: new Date(now * 1000).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref(); // like the daemons: a forgotten stop() must not keep the test process alive
  let closed: Promise<void> | undefined;
  return {
    realm: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/token`,
    cert,
    requests,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive connections of fetch would hold close() up
      })),
  };
}

export interface TestImageOptions {
  entrypoint?: string[];
  env?: string[];
  /** e.g. ['8080/tcp'] */
  exposedPorts?: string[];
  labels?: Record<string, string>;
  /** Layers on top of the first (`files`), in order; whiteouts are empty files named `.wh.NAME` or `.wh..wh..opq`. */
  moreLayers?: Record<string, Buffer>[];
  /** For a registry with auth (OciRegistry.credentials); anonymous without. */
  credentials?: { username: string; password: string };
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** An uncompressed tar of `files` (path → content), parent directories included, fixed mtimes. */
async function tarOf(files: Record<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  const mtime = new Date(0);
  const dirs = new Set<string>();
  const entries = Object.entries(files)
    .map(([name, data]) => [path.posix.normalize(name.replace(/^\/+/, '')), data] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, data] of entries) {
    if (!name || name === '.' || name.startsWith('../')) throw new Error(`bad file name in test image: ${name}`);
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        pack.entry({ name: `${d}/`, type: 'directory', mode: 0o755, mtime, uid: 0, gid: 0 });
      }
    }
    pack.entry({ name, size: data.length, mode: 0o644, mtime, uid: 0, gid: 0 }, data);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Builds a one-layer OCI image by hand (gzip tar layer with `files`, image config, OCI manifest,
 * index.json in an OCI layout) and pushes it with skopeo to HOST/REPO:TAG (plain http; anonymous
 * unless options.credentials).
 * Returns the manifest digest (sha256:…).
 */
export async function pushTestImage(
  host: string,
  repo: string,
  tag: string,
  files: Record<string, Buffer>,
  options: TestImageOptions = {},
): Promise<string> {
  const skopeo = requireExecutable('skopeo', 'skopeo');
  const dir = tempDir('modelreg-oci-');
  const unhook = onExit(() => removeDir(dir));
  try {
    const layout = path.join(dir, 'layout');
    const blobs = path.join(layout, 'blobs', 'sha256');
    fs.mkdirSync(blobs, { recursive: true });
    const putBlob = (data: Buffer | string) => {
      const hex = sha256(data);
      fs.writeFileSync(path.join(blobs, hex), data);
      return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
    };

    const layerTars = await Promise.all([files, ...(options.moreLayers ?? [])].map((l) => tarOf(l)));
    const layers = layerTars.map((t) => putBlob(zlib.gzipSync(t)));
    const created = '2024-01-01T00:00:00Z';
    const imageConfig = {
      created,
      architecture: 'amd64',
      os: 'linux',
      config: {
        Entrypoint: options.entrypoint ?? ['/usr/local/bin/serve', '--model', '/model'],
        Env: options.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'MODEL_DIR=/model'],
        ExposedPorts: Object.fromEntries((options.exposedPorts ?? ['8080/tcp']).map((p) => [p, {}])),
        Labels: options.labels ?? {
          'org.opencontainers.image.title': repo,
          'org.opencontainers.image.version': tag,
          'org.opencontainers.image.description': 'test image made by test/services/services.ts',
        },
        WorkingDir: '/',
      },
      rootfs: { type: 'layers', diff_ids: layerTars.map((t) => `sha256:${sha256(t)}`) },
      history: [{ created, created_by: 'pushTestImage (test/services/services.ts)' }],
    };
    const config = putBlob(JSON.stringify(imageConfig));
    const manifestJson = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer })),
    });
    const manifest = putBlob(manifestJson);
    fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    fs.writeFileSync(
      path.join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            annotations: { 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );

    // Our own policy, so /etc/containers/policy.json does not matter.
    const policy = path.join(dir, 'policy.json');
    fs.writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    const digestFile = path.join(dir, 'digest');
    await run(skopeo, [
      '--policy',
      policy,
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      ...(options.credentials
        ? ['--dest-creds', `${options.credentials.username}:${options.credentials.password}`]
        : ['--dest-no-creds']),
      '--digestfile',
      digestFile,
      `oci:${layout}:${tag}`,
      `docker://${host}/${repo}:${tag}`,
    ]);
    const pushed = fs.readFileSync(digestFile, 'utf8').trim();
    if (pushed !== manifest.digest)
      throw new Error(`skopeo pushed ${pushed}, expected the manifest as built (${manifest.digest})`);
    return pushed;
  } finally {
    removeDir(dir);
    unhook();
  }
}
