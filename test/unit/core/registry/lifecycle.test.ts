// Version lifecycle on a real registry with real imports: aliases and their history, tags and
// descriptions, clone, lineage (with fine-tune detection), search, archive, delete and undo, paging.
import * as assert from 'assert';
import { mkdirSync, readdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { parseSearch } from '../../../../src/core/registry/search';
import { Backend, postgresBackend, sqliteBackend } from '../../helpers/backends';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { git, makeGitRepo, tempDir } from '../../helpers/tmp';

let seed = 0;
/** A training output: distinct weights, final metrics, and optionally a config naming its base model. */
function output(root: string, name: string, metrics: Record<string, number>, config?: Record<string, unknown>): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'model.safetensors'),
    safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [16], fill: ++seed }]),
  );
  writeFileSync(path.join(dir, 'metrics.json'), JSON.stringify(metrics));
  if (config) writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function objectCount(r: Registry): number {
  return readdirSync(r.store.objectsDir).reduce((n, d) => n + readdirSync(path.join(r.store.objectsDir, d)).length, 0);
}

for (const backend of [sqliteBackend, postgresBackend()]) lifecycle(backend);

function lifecycle(backend: Backend) {
  describe(`Version lifecycle (${backend.name})`, function () {
    this.timeout(60_000);
    before(() => backend.setUp());
    after(() => backend.tearDown());
    let work: string;
    let r: Registry;
    const imp = (
      name: string,
      metrics: Record<string, number> = { accuracy: 0.8 },
      model = 'resnet',
      config?: Record<string, unknown>,
    ) => importTrainingOutput(r, output(work, name, metrics, config), { model });

    beforeEach(async () => {
      work = tempDir();
      makeGitRepo(work);
      git(work, 'config', 'user.name', 'Ada Lovelace');
      git(work, 'config', 'user.email', 'ada@example.com');
      r = await backend.open(path.join(work, '.modelreg'));
    });
    afterEach(() => r.close());

    describe('aliases', () => {
      it('point one version per alias, move with history (who, when, from → to), and resolve as NAME@alias', async () => {
        const v1 = await imp('run1');
        const v2 = await imp('run2');
        const created = await r.setAlias('resnet@v1', 'production');
        assert.deepStrictEqual([created.from, created.to, created.by], [null, 1, 'Ada Lovelace <ada@example.com>']);
        assert.strictEqual((await r.resolve('resnet@production')).id, v1.id);
        const moved = await r.setAlias(v2.ref, 'production');
        assert.deepStrictEqual([moved.from, moved.to], [1, 2]);
        assert.strictEqual((await r.resolve('resnet@production')).id, v2.id);
        assert.deepStrictEqual((await r.getVersionById(v1.id))!.aliases, []);
        assert.deepStrictEqual((await r.getVersionById(v2.id))!.aliases, ['production']);
        await r.setAlias('resnet@v1', 'staging');
        assert.deepStrictEqual(await r.aliases('resnet'), [
          { alias: 'production', number: 2 },
          { alias: 'staging', number: 1 },
        ]);
        const again = await r.setAlias('resnet@v2', 'production'); // no move, no history line
        assert.deepStrictEqual([again.from, again.to], [2, 2]);
        await r.removeAlias('resnet', 'staging');
        const history = await r.aliasHistory('resnet');
        assert.deepStrictEqual(
          history.map((h) => [h.alias, h.from, h.to]),
          [
            ['staging', 1, null],
            ['staging', null, 1],
            ['production', 1, 2],
            ['production', null, 1],
          ],
        );
        assert.ok(history.every((h) => !Number.isNaN(Date.parse(h.at))));
        assert.deepStrictEqual((await r.aliasHistory('resnet', 'production')).length, 2);
      });

      it('NAME@latest is the newest ready version; bad names and unknown aliases are clear errors', async () => {
        await imp('run1');
        const v2 = await imp('run2');
        assert.strictEqual((await r.resolve('resnet@latest')).id, v2.id);
        await assert.rejects(r.setAlias('resnet@v1', 'latest'), /'latest' is reserved/);
        await assert.rejects(r.setAlias('resnet@v1', 'v3'), /invalid alias 'v3'/);
        await assert.rejects(r.setAlias('resnet@v1', 'has space'), /invalid alias/);
        await assert.rejects(r.resolve('resnet@canary'), /model 'resnet' has no alias 'canary'/);
        await r.setAlias('resnet@v1', 'production');
        await assert.rejects(r.resolve('resnet@canary'), /it has production → v1/);
        await assert.rejects(r.removeAlias('resnet', 'canary'), /has no alias 'canary'/);
        await assert.rejects(r.setAlias('nope@v1', 'production'), /no model named 'nope'/);
      });

      it('cannot point at an archived or unfinished version', async () => {
        await imp('run1');
        await r.archiveVersion('resnet@v1');
        await assert.rejects(r.setAlias('resnet@v1', 'production'), /archived; unarchive it/);
        const pending = await r.beginVersion('resnet', { kind: 'training-output', uri: '/pending' });
        await assert.rejects(r.setAlias(`resnet@v${pending.number}`, 'production'), /still being imported/);
      });
    });

    describe('tags and descriptions', () => {
      it('are set on models and versions, deduplicated and checked', async () => {
        const v = await imp('run1');
        await r.setModelTags('resnet', ['vision', ' vision ', 'cifar']);
        await r.setVersionTags(v.ref, ['baseline']);
        await r.setModelDescription('resnet', '  ResNet-18 on CIFAR-10 ');
        await r.setVersionDescription(v.ref, 'first run');
        const m = (await r.getModel('resnet'))!;
        assert.deepStrictEqual(m.tags, ['cifar', 'vision']);
        assert.strictEqual(m.description, 'ResNet-18 on CIFAR-10');
        const got = await r.resolve(v.ref);
        assert.deepStrictEqual([got.tags, got.description], [['baseline'], 'first run']);
        assert.deepStrictEqual(await r.allTags(), ['baseline', 'cifar', 'vision']);
        await assert.rejects(r.setVersionTags(v.ref, ['a,b']), /invalid tag 'a,b'/);
        await assert.rejects(r.setVersionTags(v.ref, ['x'.repeat(65)]), /1 to 64 characters/);
        await r.setVersionTags(v.ref, []);
        assert.deepStrictEqual((await r.resolve(v.ref)).tags, []);
      });
    });

    describe('clone and lineage', () => {
      it('clones into a new model and as a new version of another, sharing objects, with lineage', async () => {
        const v1 = await imp('run1', { accuracy: 0.91 });
        await r.setVersionTags(v1.ref, ['baseline']);
        const objects = objectCount(r);
        const copy = await r.cloneVersion('resnet@v1', 'resnet-prod');
        assert.strictEqual(copy.ref, 'resnet-prod@v1');
        assert.deepStrictEqual(
          [copy.source.kind, copy.source.uri, copy.parentId, copy.parentKind],
          ['clone', 'resnet@v1', v1.id, 'clone'],
        );
        assert.strictEqual(objectCount(r), objects, 'zero-copy: no new objects');
        assert.deepStrictEqual(await r.files(copy.id), await r.files(v1.id));
        assert.deepStrictEqual(await r.finalMetrics(copy.id), await r.finalMetrics(v1.id));
        assert.deepStrictEqual([copy.format, copy.git?.commit, copy.tags], [v1.format, v1.git?.commit, ['baseline']]);

        await imp('other', {}, 'mobilenet');
        const asVersion = await r.cloneVersion(copy.ref, 'mobilenet', { description: 'swap in' });
        assert.strictEqual(asVersion.ref, 'mobilenet@v2');
        assert.strictEqual(asVersion.description, 'swap in');

        const lineage = await r.lineage('resnet-prod@v1');
        assert.deepStrictEqual(lineage.nodes.map((n) => n.ref).sort(), ['mobilenet@v2', 'resnet-prod@v1', 'resnet@v1']);
        assert.deepStrictEqual(
          lineage.edges.map((e) => [e.from, e.to, e.kind]),
          [
            [v1.id, copy.id, 'clone'],
            [copy.id, asVersion.id, 'clone'],
          ],
        );
        assert.strictEqual(lineage.nodes.find((n) => n.id === v1.id)!.commit, v1.git!.commit);
        assert.strictEqual(lineage.truncated, false);
        await assert.rejects(r.cloneVersion('resnet@v1', 'bad name'), /invalid model name 'bad name'/);
      });

      it('detects a fine-tune from a registered base: by registry name in config.json, and by the folder it was imported from', async () => {
        const base = await imp('bert-base-run', {}, 'bert-base');
        await r.setAlias(base.ref, 'production');
        const byName = await imp('finetune1', {}, 'bert-sst2', {
          _name_or_path: 'bert-base@production',
          num_labels: 2,
        });
        assert.deepStrictEqual([byName.parentId, byName.parentKind], [base.id, 'fine-tune']);
        const byPath = await imp('finetune2', {}, 'bert-sst2', { model_name_or_path: '../bert-base-run' });
        assert.deepStrictEqual([byPath.parentId, byPath.parentKind], [base.id, 'fine-tune']);
        const hub = await imp('finetune3', {}, 'bert-sst2', { _name_or_path: 'google/bert_uncased_L-2_H-128_A-2' });
        assert.strictEqual(hub.parentId, null, 'a hub id that is not in the registry is no parent');
        const lineage = await r.lineage(base.ref);
        assert.deepStrictEqual(lineage.nodes.map((n) => n.ref).sort(), [
          'bert-base@v1',
          'bert-sst2@v1',
          'bert-sst2@v2',
        ]);
      });
    });

    describe('search', () => {
      beforeEach(async () => {
        await imp('r1', { accuracy: 0.85, loss: 0.4 });
        await imp('r2', { accuracy: 0.93, loss: 0.2 });
        await imp('b1', { accuracy: 0.95 }, 'bert-sst2');
        await r.setAlias('resnet@v2', 'production');
        await r.setModelTags('bert-sst2', ['nlp']);
        await r.setVersionTags('resnet@v1', ['needs review']);
      });
      const refs = async (q: string) => (await r.search(q)).map((v) => v.ref).sort();

      it('by name, tag, alias, format, commit and metric thresholds, ANDed', async () => {
        assert.deepStrictEqual(await refs('resnet'), ['resnet@v1', 'resnet@v2']);
        assert.deepStrictEqual(await refs('name:sst'), ['bert-sst2@v1']);
        assert.deepStrictEqual(await refs('tag:nlp'), ['bert-sst2@v1']);
        assert.deepStrictEqual(await refs('nlp'), ['bert-sst2@v1'], 'a bare word matches tags too');
        assert.deepStrictEqual(await refs('tag:"needs review"'), ['resnet@v1']);
        assert.deepStrictEqual(await refs('@production'), ['resnet@v2']);
        assert.deepStrictEqual(await refs('alias:production'), ['resnet@v2']);
        assert.deepStrictEqual(await refs('accuracy>0.9'), ['bert-sst2@v1', 'resnet@v2']);
        assert.deepStrictEqual(await refs('accuracy>0.9 resnet'), ['resnet@v2']);
        assert.deepStrictEqual(await refs('loss<=0.2'), ['resnet@v2']);
        assert.deepStrictEqual(await refs('accuracy!=0.85'), ['bert-sst2@v1', 'resnet@v2']);
        assert.deepStrictEqual(await refs('format:safetensors'), ['bert-sst2@v1', 'resnet@v1', 'resnet@v2']);
        assert.deepStrictEqual(await refs('format:onnx'), []);
        const commit = (await r.resolve('resnet@v1')).git!.commit;
        assert.strictEqual((await refs(`commit:${commit.slice(0, 7)}`)).length, 3);
        assert.deepStrictEqual(await refs('commit:0000000'), []);
        assert.deepStrictEqual(await refs('100%_'), [], 'LIKE wildcards are literal');
      });

      it('a metric comparison takes spaces around its operator', async () => {
        assert.deepStrictEqual(await refs('accuracy >0.9'), ['bert-sst2@v1', 'resnet@v2']);
        assert.deepStrictEqual(await refs('accuracy > 0.9 resnet'), ['resnet@v2']);
        assert.deepStrictEqual(await refs('loss <= 0.2'), ['resnet@v2']);
        assert.deepStrictEqual(await refs('tag:"a > 1"'), [], 'a quoted value stays one term');
      });

      it('says why a search matched nothing: no such metric, or no value passes', async () => {
        assert.strictEqual(
          await r.explainNoMatch('acc>0.5'),
          'No versions match "acc>0.5": no metric is named acc; known metrics: accuracy',
        );
        assert.strictEqual(
          await r.explainNoMatch('accuracy > 0.99'),
          'No versions match "accuracy > 0.99": no accuracy is > 0.99; the highest is 0.95 (bert-sst2@v1)',
        );
        assert.strictEqual(
          await r.explainNoMatch('loss<0.1'),
          'No versions match "loss<0.1": no loss is < 0.1; the lowest is 0.2 (resnet@v2)',
        );
        assert.strictEqual(await r.explainNoMatch('resnet tag:zzz'), 'No versions match "resnet tag:zzz"');
        // Archived versions count only when the search shows them.
        await r.archiveVersion('bert-sst2@v1');
        assert.match(await r.explainNoMatch('accuracy>0.99'), /the highest is 0.93 \(resnet@v2\)/);
        assert.match(await r.explainNoMatch('accuracy>0.99 archived:yes'), /the highest is 0.95 \(bert-sst2@v1\)/);
      });

      it("the filter's example comparison is a metric of this registry that some version passes", async () => {
        const example = await r.exampleComparison();
        assert.strictEqual(example, 'accuracy>0.9');
        assert.ok((await refs(example!)).length > 0);
      });

      it('filters the model list and a model’s versions the same way, a page at a time', async () => {
        assert.deepStrictEqual(
          (await r.listModels({ filter: 'accuracy>0.9' })).map((m) => m.name),
          ['bert-sst2', 'resnet'],
        );
        assert.deepStrictEqual(
          (await r.listModels({ filter: 'loss<0.3' })).map((m) => m.name),
          ['resnet'],
        );
        assert.deepStrictEqual(
          (await r.listVersions('resnet', { filter: 'accuracy>0.9' })).map((v) => v.number),
          [2],
        );
        assert.deepStrictEqual(
          (await r.listModels({ limit: 1 })).map((m) => m.name),
          ['bert-sst2'],
        );
        assert.deepStrictEqual(
          (await r.listModels({ limit: 1, offset: 1 })).map((m) => m.name),
          ['resnet'],
        );
        assert.deepStrictEqual(
          (await r.listVersions('resnet', { limit: 1, offset: 1 })).map((v) => v.number),
          [1],
        );
      });

      it('rejects what it cannot read, naming the term', () => {
        assert.throws(() => parseSearch('size:3'), /unknown field 'size:' in 'size:3'/);
        assert.throws(() => parseSearch('commit:xyz'), /commit:xyz is not a commit id/);
        assert.throws(() => parseSearch('tag:'), /'tag:' has no value/);
        assert.throws(() => parseSearch('archived:maybe'), /archived:yes/);
        assert.strictEqual(parseSearch('').where, 'TRUE');
      });
    });

    describe('archive, delete and undo', () => {
      it('archive hides a version from lists, NAME and @latest, and comes back', async () => {
        await imp('run1');
        await imp('run2');
        await r.archiveVersion('resnet@v2');
        assert.deepStrictEqual(
          (await r.listVersions('resnet')).map((v) => v.number),
          [1],
        );
        assert.deepStrictEqual(
          (await r.listVersions('resnet', { includeArchived: true })).map((v) => v.number),
          [2, 1],
        );
        assert.deepStrictEqual(
          (await r.search('archived:only')).map((v) => v.ref),
          ['resnet@v2'],
        );
        assert.strictEqual((await r.resolve('resnet')).number, 1);
        assert.strictEqual((await r.resolve('resnet@v2')).archivedAt !== null, true, 'still reachable by number');
        const m = (await r.getModel('resnet'))!;
        assert.deepStrictEqual([m.versionCount, m.archivedCount, m.latestVersion], [1, 1, 1]);
        await r.unarchiveVersion('resnet@v2');
        assert.strictEqual((await r.resolve('resnet')).number, 2);
      });

      it('delete refuses while an alias points at the version, unless forced; undo restores version and alias', async () => {
        await imp('run1');
        const v2 = await imp('run2');
        await r.setAlias('resnet@v2', 'production');
        await assert.rejects(
          r.deleteVersion('resnet@v2'),
          /resnet@v2 is production: move the alias first, or delete with force/,
        );
        await assert.rejects(r.archiveVersion('resnet@v2'), /archive with force/);
        const { removedAliases } = await r.deleteVersion('resnet@v2', { force: true });
        assert.deepStrictEqual(removedAliases, ['production']);
        await assert.rejects(r.resolve('resnet@v2'), /has no version v2/);
        assert.deepStrictEqual(
          (await r.listVersions('resnet')).map((v) => v.number),
          [1],
        );
        assert.deepStrictEqual((await r.aliasHistory('resnet', 'production'))[0].to, null);

        const back = await r.restoreVersion(v2.id, removedAliases);
        assert.deepStrictEqual([back.number, back.aliases], [2, ['production']]);
        assert.strictEqual((await r.resolve('resnet@production')).id, v2.id);
      });

      it('gc removes deleted versions for good, with their objects; their numbers are not reused', async () => {
        await imp('run1');
        const v2 = await imp('run2');
        const before = objectCount(r);
        await r.deleteVersion('resnet@v2');
        assert.strictEqual(objectCount(r), before, 'objects stay until gc, so undo works');
        const result = await r.gc();
        assert.strictEqual(result.removedVersions, 1);
        assert.ok(result.removedObjects >= 1);
        await assert.rejects(r.restoreVersion(v2.id), /gc removed it/);
        const v3 = await imp('run3');
        assert.strictEqual(v3.number, 3);
        assert.deepStrictEqual((await r.verify()).problems, []);

        await r.deleteVersion('resnet@v1');
        await r.deleteVersion('resnet@v3');
        assert.strictEqual(await r.getModel('resnet'), undefined, 'a model whose versions are all deleted is hidden');
        assert.deepStrictEqual(await r.listModels(), []);
      });

      it("undo after gc cannot restore another version that took the deleted one's id, nor move its aliases there", async () => {
        await imp('run1');
        const v2 = await imp('run2');
        await r.setAlias('resnet@v2', 'production');
        const { removedAliases } = await r.deleteVersion('resnet@v2', { force: true });
        await r.gc();
        const v3 = await imp('run3'); // SQLite hands out the freed row id again
        await assert.rejects(r.restoreVersion(v2.id, removedAliases), /gc removed it/);
        assert.deepStrictEqual((await r.resolve('resnet@v3')).aliases, [], `production moved to ${v3.ref}`);
      });

      it("numbers are never reused: not after the model's only version is force-deleted and gc drops it, nor after a reopen", async () => {
        const v1 = await imp('run1', { accuracy: 0.8 }, 'solo');
        await r.setAlias('solo@v1', 'production');
        await r.deleteVersion('solo@v1', { force: true });
        assert.strictEqual((await r.gc()).removedVersions, 1);
        assert.strictEqual(await r.getModel('solo'), undefined, 'the model is gone from every listing');
        const v2 = await imp('run2', { accuracy: 0.9 }, 'solo');
        assert.strictEqual(v2.number, 2, 'solo@v1 named other content once; it must not come back');
        await assert.rejects(r.resolve('solo@v1'), /has no version v1/);
        // Again, with an import abandoned in between and the registry reopened.
        await r.deleteVersion('solo@v2');
        await r.gc();
        const { id } = await r.beginVersion('solo', { kind: 'training-output', uri: '/nowhere' });
        await r.abandonVersion(id);
        await r.gc();
        if (backend.name === 'sqlite') {
          await r.close(); // (the PostgreSQL helper opens a fresh database each time)
          r = await backend.open(path.join(work, '.modelreg'));
        }
        assert.strictEqual((await imp('run3', { accuracy: 0.7 }, 'solo')).number, 3);
        assert.strictEqual(v1.number, 1);
      });
    });
  });
}
