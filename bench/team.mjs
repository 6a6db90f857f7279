// Team registry benchmark (not a test): push and pull of one version against a real PostgreSQL and
// Swift s3api on 127.0.0.1, each against the same bytes moved by the bare AWS SDK in the same run
// (a multipart Upload of the file; a GetObject streamed to a file and synced). A push of a version already
// there shows the cost of finding the copy. BENCH_TEAM_MIB sets the weights' size (default 256).
// A second case is a folder of 300 files of 64 KiB (sharded checkpoints, tokenizer files…), bound by
// round trips: against the bare SDK doing HEAD + PutObject, and GetObject to a file, 8 at a time.
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { randomFillSync } from 'crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'fs';
import { createRequire } from 'module';
import path from 'path';
import { pipeline } from 'stream/promises';
import { fileURLToPath } from 'url';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const { Registry, importTrainingOutput, openTeamRegistry, pushVersion, pullVersion, s3Client } = require(
  path.join(repo, 'out/src/core/index.js'),
);
const { startPostgres, startSwiftS3 } = require(path.join(repo, 'out/test/services/services.js'));

const MIB = Number(process.env.BENCH_TEAM_MIB ?? 256);
const RUNS = 3;
const dir = path.join(repo, '.cache', 'bench-team');
rmSync(dir, { recursive: true, force: true });
mkdirSync(path.join(dir, 'output'), { recursive: true });
// Random bytes (incompressible, as trained weights nearly are) behind a valid safetensors header.
const header = JSON.stringify({ w: { dtype: 'U8', shape: [MIB << 20], data_offsets: [0, MIB << 20] } });
const len = Buffer.alloc(8);
len.writeBigUInt64LE(BigInt(header.length));
const weights = path.join(dir, 'output', 'model.safetensors');
writeFileSync(weights, Buffer.concat([len, Buffer.from(header), randomFillSync(Buffer.alloc(MIB << 20))]));
writeFileSync(path.join(dir, 'output', 'metrics.json'), JSON.stringify({ accuracy: 0.9 }));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = async (fn) => {
  const t = performance.now();
  const r = await fn();
  return { ms: performance.now() - t, r };
};

const [pg, swift] = await Promise.all([startPostgres(), startSwiftS3()]);
const connection = {
  endpoint: swift.endpoint,
  region: swift.region,
  forcePathStyle: true,
  credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
};
const s3 = s3Client(connection);
try {
  const local = await Registry.open(path.join(dir, 'local'));
  const v = await importTrainingOutput(local, path.join(dir, 'output'), { model: 'bench' });
  const rows = { upload: [], push: [], again: [], get: [], pull: [] };
  for (let run = 1; run <= RUNS; run++) {
    // A fresh database and bucket each run, so every byte is sent.
    const url = await pg.createDatabase(`bench_${run}`);
    await s3.send(new CreateBucketCommand({ Bucket: `bench-${run}` }));
    await s3.send(new CreateBucketCommand({ Bucket: `raw-${run}` }));
    const team = await openTeamRegistry({
      registry: url,
      store: `s3://bench-${run}/team`,
      connection,
      workDir: path.join(dir, `work-${run}`),
    });

    // Alternate which goes first, so neither always meets a colder server.
    const upload = async () =>
      rows.upload.push(
        (
          await timed(() =>
            new Upload({
              client: s3,
              params: { Bucket: `raw-${run}`, Key: 'weights', Body: createReadStream(weights) },
              partSize: 8 << 20,
              queueSize: 4,
            }).done(),
          )
        ).ms,
      );
    const push = async () => rows.push.push((await timed(() => pushVersion(local, team, v.ref))).ms);
    if (run % 2) {
      await upload();
      await push();
    } else {
      await push();
      await upload();
    }
    rows.again.push((await timed(() => pushVersion(local, team, v.ref))).ms);

    const raw = path.join(dir, `raw-${run}.bin`);
    rows.get.push(
      (
        await timed(async () => {
          const r = await s3.send(new GetObjectCommand({ Bucket: `raw-${run}`, Key: 'weights' }));
          await pipeline(r.Body, createWriteStream(raw));
          const fd = openSync(raw, 'r+'); // the store syncs what it writes: so does the reference
          fsyncSync(fd);
          closeSync(fd);
        })
      ).ms,
    );
    const other = await Registry.open(path.join(dir, `pulled-${run}`));
    rows.pull.push((await timed(() => pullVersion(team, other, v.ref))).ms);
    await Promise.all([other.close(), team.close()]);
  }
  // Many small files, once.
  const SMALL = 300;
  mkdirSync(path.join(dir, 'shards', 'parts'), { recursive: true });
  const parts = Array.from({ length: SMALL }, (_, i) => path.join(dir, 'shards', 'parts', `part-${i}.bin`));
  for (const p of parts) writeFileSync(p, randomFillSync(Buffer.alloc(64 << 10)));
  const sharded = await importTrainingOutput(local, path.join(dir, 'shards'), { model: 'sharded' });
  await s3.send(new CreateBucketCommand({ Bucket: 'small' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'small-raw' }));
  const eightAtOnce = async (fn) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < SMALL) await fn(next++);
      }),
    );
  };
  const smallTeam = await openTeamRegistry({
    registry: pg.url,
    store: 's3://small/team',
    connection,
    workDir: path.join(dir, 'work-small'),
  });
  const small = {};
  small.bare = (
    await timed(() =>
      eightAtOnce(async (i) => {
        await s3.send(new HeadObjectCommand({ Bucket: 'small-raw', Key: `p${i}` })).catch(() => undefined);
        await s3.send(new PutObjectCommand({ Bucket: 'small-raw', Key: `p${i}`, Body: readFileSync(parts[i]) }));
      }),
    )
  ).ms;
  small.push = (await timed(() => pushVersion(local, smallTeam, sharded.ref))).ms;
  mkdirSync(path.join(dir, 'small-raw'));
  small.get = (
    await timed(() =>
      eightAtOnce(async (i) => {
        const r = await s3.send(new GetObjectCommand({ Bucket: 'small-raw', Key: `p${i}` }));
        await pipeline(r.Body, createWriteStream(path.join(dir, 'small-raw', `p${i}`)));
      }),
    )
  ).ms;
  const smallPulled = await Registry.open(path.join(dir, 'pulled-small'));
  small.pull = (await timed(() => pullVersion(smallTeam, smallPulled, sharded.ref))).ms;
  await Promise.all([smallPulled.close(), smallTeam.close(), local.close()]);

  const m = Object.fromEntries(Object.entries(rows).map(([k, xs]) => [k, median(xs)]));
  const mbps = (ms) => `${((MIB / ms) * 1000).toFixed(0)} MiB/s`;
  console.log(
    `\nTeam registry, one version with ${MIB} MiB of weights (median of ${RUNS}; PostgreSQL + Swift s3api on 127.0.0.1)`,
  );
  console.log(
    `  push         ${m.push.toFixed(0).padStart(7)} ms  ${mbps(m.push)}   bare SDK Upload ${m.upload.toFixed(0)} ms   ratio ${(m.push / m.upload).toFixed(2)}×`,
  );
  console.log(
    `  pull         ${m.pull.toFixed(0).padStart(7)} ms  ${mbps(m.pull)}   bare SDK GetObject → file + fsync ${m.get.toFixed(0)} ms   ratio ${(m.pull / m.get).toFixed(2)}×`,
  );
  console.log(`  push again   ${m.again.toFixed(1).padStart(7)} ms  (the copy is found; nothing sent)`);
  console.log(`A folder of ${SMALL} files of 64 KiB (once)`);
  console.log(
    `  push         ${small.push.toFixed(0).padStart(7)} ms   bare SDK HEAD + PutObject, 8 at once ${small.bare.toFixed(0)} ms   ratio ${(small.push / small.bare).toFixed(2)}×`,
  );
  console.log(
    `  pull         ${small.pull.toFixed(0).padStart(7)} ms   bare SDK GetObject → file, 8 at once ${small.get.toFixed(0)} ms   ratio ${(small.pull / small.get).toFixed(2)}×`,
  );
} finally {
  s3.destroy();
  await Promise.all([pg.stop(), swift.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
