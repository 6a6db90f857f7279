// SIGKILL in the middle of import, convert, export and evaluate: real CLI processes killed after a
// delay or when the registry shows they reached a phase (a temp file, an `importing` row, a
// `.partial` tar). Afterwards the registry opens, verify passes, gc leaves no unfinished row and no
// temp or partial file, and the same operation then succeeds. Failures are collected per operation.
import * as assert from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { existsSync, promises as fsp } from 'fs';
import * as path from 'path';
import * as sqlite3 from 'sqlite3';
import { onnxModelBytes } from '../helpers/makeWeights';
import { tempDir } from '../helpers/tmp';
import { CLI, failureTable, outputProblems, runCli, show } from './harness';

type Trigger = { label: string; delayMs: number } | { label: string; when: (ws: Workspace) => Promise<boolean> };

interface Workspace {
  dir: string;
  reg: string;
}

async function query<T>(reg: string, sql: string): Promise<T[]> {
  const file = path.join(reg, 'registry.db');
  if (!existsSync(file)) return [];
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (e) => (e ? reject(e) : resolve(d)));
  });
  try {
    return await new Promise<T[]>((resolve) => db.all(sql, (e, rows) => resolve(e ? [] : (rows as T[]))));
  } finally {
    await new Promise((resolve) => db.close(resolve));
  }
}

async function filesUnder(dir: string, test: (name: string) => boolean = () => true): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await fsp.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (test(e.name)) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/** Live processes of a session (the CLI runs detached, so its pid is the session's id); zombies are dead. */
function sessionMembers(sid: number): number[] {
  const r = spawnSync('ps', ['-o', 'pid=,stat=', '--sid', String(sid)], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, stat]) => pid && !stat?.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

/**
 * Starts the CLI in a process group of its own and SIGKILLs the CLI alone at the trigger (as the OOM
 * killer or a closed terminal would); says whether it was killed or had finished first, and which of
 * its children (onnxruntime hosts, decode workers are threads) outlived it.
 */
async function killAt(
  ws: Workspace,
  args: string[],
  trigger: Trigger,
): Promise<{ killed: boolean; code: number | null; signal: NodeJS.Signals | null; err: string; orphans: number[] }> {
  const child: ChildProcess = spawn(process.execPath, [CLI, '--registry', ws.reg, ...args], {
    cwd: ws.dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void closed.then(() => (done = true));
  if ('delayMs' in trigger) {
    await Promise.race([new Promise((r) => setTimeout(r, trigger.delayMs)), closed]);
  } else {
    const started = Date.now();
    while (!done && !(await trigger.when(ws)) && Date.now() - started < 60_000)
      await new Promise((r) => setTimeout(r, 5));
  }
  const killing = !done;
  if (killing) child.kill('SIGKILL');
  const { code, signal } = await closed;
  // Children notice their parent's death by themselves; give them a few seconds to do so.
  let orphans = sessionMembers(child.pid!);
  for (let i = 0; i < 50 && orphans.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    orphans = sessionMembers(child.pid!);
  }
  if (orphans.length) process.kill(-child.pid!, 'SIGKILL'); // the group this test started
  return { killed: killing && signal === 'SIGKILL', code, signal, err, orphans };
}

interface Operation {
  name: string;
  /** Prepares a workspace (a registry with what the operation needs). */
  prepare(ws: Workspace): Promise<void>;
  args: string[];
  triggers: Trigger[];
  /** Runs before each trial (import changes its input so every trial copies afresh). */
  beforeTrial?(ws: Workspace, trial: number): Promise<void>;
  /** Extra checks after the kill and gc. */
  check?(ws: Workspace): Promise<string[]>;
}

const delays = (...ms: number[]): Trigger[] => ms.map((delayMs) => ({ label: `after ${delayMs} ms`, delayMs }));
const hasTemp = (ws: Workspace) => filesUnder(path.join(ws.reg, 'tmp')).then((f) => f.length > 0);
const importingRow = (ws: Workspace) =>
  query(ws.reg, "SELECT id FROM versions WHERE status = 'importing'").then((r) => r.length > 0);

/** 200 MiB that compress badly and are all real bytes on disk: a random MiB block, varied per MiB. */
async function writeBigFile(file: string, mib = 200): Promise<void> {
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.imul(i, 2654435761) ^ 0x9e3779b9) >>> 0, i);
  const fh = await fsp.open(file, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32LE(i, 0);
      await fh.write(block);
    }
  } finally {
    await fh.close();
  }
}

/** A safetensors file of one F32 tensor of `n` elements (values vary, so fp16 conversion does work). */
async function writeBigSafetensors(file: string, n: number): Promise<void> {
  const header = JSON.stringify({ weight: { dtype: 'F32', shape: [n], data_offsets: [0, n * 4] } });
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  const fh = await fsp.open(file, 'w');
  try {
    await fh.write(Buffer.concat([len, Buffer.from(padded)]));
    const chunk = new Float32Array(1 << 20);
    for (let done = 0; done < n; done += chunk.length) {
      for (let i = 0; i < chunk.length; i++) chunk[i] = ((done + i) % 2000) / 1000 - 1;
      const count = Math.min(chunk.length, n - done);
      await fh.write(Buffer.from(chunk.buffer, 0, count * 4));
    }
  } finally {
    await fh.close();
  }
}

const cli = (ws: Workspace, ...args: string[]) => runCli(ws.dir, ['--registry', ws.reg, ...args], 120_000);

async function mustSucceed(ws: Workspace, ...args: string[]) {
  const r = await cli(ws, ...args);
  if (r.code !== 0) throw new Error(`\`modelreg ${args.join(' ')}\` failed (exit ${r.code}): ${r.err}`);
  return r;
}

const OPERATIONS: Operation[] = [
  {
    name: 'import',
    async prepare(ws) {
      await fsp.mkdir(path.join(ws.dir, 'run'), { recursive: true });
      await writeBigFile(path.join(ws.dir, 'run', 'data.bin.raw'));
      await fsp.writeFile(path.join(ws.dir, 'run', 'config.json'), '{"hidden_size": 4}');
    },
    async beforeTrial(ws, trial) {
      const fh = await fsp.open(path.join(ws.dir, 'run', 'data.bin.raw'), 'r+');
      await fh.write(Buffer.from(`trial ${trial}`), 0, undefined, 8);
      await fh.close();
    },
    // Random bytes, not weights: the import must take them anyway.
    args: ['import', 'run', '--model', 'big', '--allow-no-weights'],
    triggers: [
      ...delays(300, 600, 1000),
      { label: 'when a temp file appears (copying)', when: hasTemp },
      { label: 'when the importing row appears', when: importingRow },
      {
        label: 'when an object has been placed',
        when: async (ws) => (await filesUnder(path.join(ws.reg, 'objects'))).length > 0,
      },
    ],
  },
  {
    name: 'convert',
    async prepare(ws) {
      await fsp.mkdir(path.join(ws.dir, 'model'), { recursive: true });
      await writeBigSafetensors(path.join(ws.dir, 'model', 'model.safetensors'), 40 << 20);
      await mustSucceed(ws, 'import', 'model', '--model', 'm');
    },
    args: ['convert', 'm@v1', '--to', 'fp16'],
    triggers: [
      ...delays(300, 700, 1200),
      { label: 'when the importing row appears', when: importingRow },
      { label: 'when a temp file appears (converting)', when: hasTemp },
    ],
  },
  {
    name: 'export',
    async prepare(ws) {
      await fsp.mkdir(path.join(ws.dir, 'run'), { recursive: true });
      await writeBigFile(path.join(ws.dir, 'run', 'data.bin.raw'));
      await mustSucceed(ws, 'import', 'run', '--model', 'big', '--allow-no-weights');
      await fsp.mkdir(path.join(ws.dir, 'out'), { recursive: true });
    },
    args: ['export', 'big@v1', 'out/big.tar'],
    triggers: [
      ...delays(300, 600, 900),
      {
        label: 'when the .partial tar appears',
        when: async (ws) => (await filesUnder(path.join(ws.dir, 'out'), (n) => n.endsWith('.partial'))).length > 0,
      },
      {
        label: 'when the .partial tar is past 100 MiB',
        when: async (ws) => {
          for (const f of await filesUnder(path.join(ws.dir, 'out'), (n) => n.endsWith('.partial')))
            if (((await fsp.stat(f).catch(() => undefined))?.size ?? 0) > 100 << 20) return true;
          return false;
        },
      },
    ],
    async check(ws) {
      const p: string[] = [];
      const partial = await filesUnder(ws.dir, (n) => n.endsWith('.partial'));
      if (partial.length)
        p.push(`after gc, partial files remain: ${partial.map((f) => path.relative(ws.dir, f)).join(', ')}`);
      return p;
    },
  },
  {
    name: 'evaluate',
    async prepare(ws) {
      await fsp.mkdir(path.join(ws.dir, 'model'), { recursive: true });
      await fsp.writeFile(
        path.join(ws.dir, 'model', 'model.onnx'),
        onnxModelBytes({ features: 2, classes: 3, weights: [1, 0, 0, 0, 1, 0], bias: [0, 0, 0.5], softmax: false }),
      );
      await mustSucceed(ws, 'import', 'model', '--model', 'm');
      const rows = Array.from({ length: 100_000 }, (_, i) => `${(i % 10) / 10},${(i % 7) / 7},${'abc'[i % 3]}`);
      await fsp.writeFile(path.join(ws.dir, 'data.csv'), `x1,x2,label\n${rows.join('\n')}\n`);
      await mustSucceed(ws, 'dataset', 'add', 'data.csv', '--name', 'd');
    },
    args: ['evaluate', 'm@v1', '--dataset', 'd', '--batch', '16'],
    triggers: [
      ...delays(400, 900, 1500),
      {
        label: 'when the running evaluation row appears',
        when: (ws) => query(ws.reg, "SELECT id FROM evaluations WHERE status = 'running'").then((r) => r.length > 0),
      },
    ],
    async check(ws) {
      const running = await query<{ id: number }>(ws.reg, "SELECT id FROM evaluations WHERE status <> 'done'");
      return running.length
        ? [
            `after gc, ${running.length} evaluation row(s) stay '${'running'}' (ids ${running.map((r) => r.id).join(', ')})`,
          ]
        : [];
    },
  },
];

describe('SIGKILL during import, convert, export and evaluate', function () {
  this.timeout(20 * 60_000);

  for (const op of OPERATIONS) {
    it(`${op.name}: killed ${op.triggers.length} ways, the registry stays whole and the next ${op.name} succeeds`, async () => {
      const ws: Workspace = { dir: tempDir('modelreg-sigkill-'), reg: '' };
      ws.reg = path.join(ws.dir, 'reg');
      await op.prepare(ws);
      const failures: { id: string; problem: string; output: string }[] = [];
      let killedMidway = 0;
      for (const [trial, trigger] of op.triggers.entries()) {
        await op.beforeTrial?.(ws, trial);
        const id = `${op.name} ${trigger.label}`;
        const fail = (problem: string, output = '') => failures.push({ id, problem, output });
        const k = await killAt(ws, op.args, trigger);
        if (k.orphans.length)
          fail(`${k.orphans.length} child process(es) outlived the killed CLI by 5 s (pids ${k.orphans.join(', ')})`);
        if (k.killed) killedMidway++;
        else if (k.code !== 0)
          fail(`ended by itself before the kill (exit ${k.code}${k.signal ? `, ${k.signal}` : ''})`, show(k.err, 200));

        // Before gc: the registry opens, and a listing shows no dead import as if it were running.
        const listed = await cli(ws, 'list', '--json');
        for (const p of outputProblems(listed)) fail(`list: ${p}`, show(listed.err, 200));
        if (listed.code !== 0)
          fail(`the registry does not open after the kill (list exit ${listed.code})`, show(listed.err, 200));
        else {
          for (const m of JSON.parse(listed.out) as { name: string }[]) {
            const vs = await cli(ws, 'list', m.name, '--json', '--all');
            const stuck =
              vs.code === 0
                ? (JSON.parse(vs.out) as { ref: string; status: string }[]).filter((v) => v.status === 'importing')
                : [];
            if (stuck.length)
              fail(
                `before gc, list shows ${stuck.map((v) => v.ref).join(', ')} as importing although its process is dead`,
              );
          }
        }
        const verify = await cli(ws, 'verify', '--json');
        if (verify.code !== 0)
          fail(`verify fails after the kill (exit ${verify.code})`, show(verify.out + verify.err, 200));
        const gc = await cli(ws, 'gc', '--json');
        if (gc.code !== 0) fail(`gc fails after the kill (exit ${gc.code})`, show(gc.err, 200));
        const unfinished = await query<{ id: number; status: string }>(
          ws.reg,
          "SELECT id, status FROM versions WHERE status <> 'ready'",
        );
        if (unfinished.length)
          fail(`after gc, versions stay unfinished: ${unfinished.map((v) => `#${v.id} ${v.status}`).join(', ')}`);
        const temp = await filesUnder(path.join(ws.reg, 'tmp'));
        if (temp.length)
          fail(`after gc, temp files remain in the registry: ${temp.map((f) => path.basename(f)).join(', ')}`);
        for (const p of (await op.check?.(ws)) ?? []) fail(p);

        // The same operation, run to the end, succeeds and leaves a registry that verifies.
        if (op.name === 'export') await fsp.rm(path.join(ws.dir, 'out', 'big.tar'), { force: true });
        const again = await cli(ws, ...op.args);
        if (again.code !== 0) fail(`the next ${op.name} fails (exit ${again.code})`, show(again.err, 200));
        const after = await cli(ws, 'verify', '--json');
        if (after.code !== 0) fail(`verify fails after the next ${op.name} (exit ${after.code})`, show(after.out, 200));
        if (op.name === 'export') {
          const partial = await filesUnder(ws.dir, (n) => n.endsWith('.partial'));
          if (partial.length)
            fail(
              `after the next export, partial files remain: ${partial.map((f) => path.relative(ws.dir, f)).join(', ')}`,
            );
          const check = await runCli(
            ws.dir,
            ['--registry', path.join(ws.dir, 'reg2'), 'import-archive', 'out/big.tar'],
            120_000,
          );
          if (check.code !== 0)
            fail(`the next export's tar does not import (exit ${check.code})`, show(check.err, 200));
          await fsp.rm(path.join(ws.dir, 'reg2'), { recursive: true, force: true });
        }
      }
      // A suite whose kills all come too late tests nothing: most trials must hit a running process.
      if (killedMidway < Math.ceil(op.triggers.length / 2))
        failures.push({
          id: op.name,
          problem: `only ${killedMidway} of ${op.triggers.length} kills hit a running process`,
          output: '',
        });
      if (failures.length) assert.fail(`${op.name}: ${failures.length} problems\n${failureTable(failures)}`);
    });
  }
});
