import * as assert from 'assert/strict';
import { existsSync } from 'fs';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'fs/promises';
import { tmpdir } from 'os';
import * as path from 'path';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { walkFiles } from '../../../../src/core/util/walk';
import { modelsOf } from '../../../../src/core/inspect/warnings';
import { Registry } from '../../../../src/core/registry/registry';
import { inspectOutput } from '../../../../src/core/inspect/output';
import { inspectWeights, isWeightFileName } from '../../../../src/core/inspect/weights';
import { onnxModelType } from '../../../../src/core/inspect/weights/onnxSchema';
import {
  ggufBytes,
  onnxModelBytes,
  safetensorsBytes,
  tfliteBytes,
  writeGguf,
  writeKerasArchive,
  writeKerasH5,
  writeLegacyTorch,
  writeOnnx,
  writePlainH5,
  writeSafetensors,
  writeSavedModel,
  writeTflite,
  writeTorchZip,
  writeZip,
} from '../../helpers/makeWeights';
import { rejectsInput } from '../../helpers/assertions';
import { repoPath } from '../../helpers/paths';

const FIXTURES = repoPath('test/fixtures/onnx-model-zoo');

describe('weight readers', () => {
  let dir: string;
  const at = (name: string) => path.join(dir, name);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'modelreg-weights-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('isWeightFileName', () => {
    it('accepts weight file names and rejects others', () => {
      for (const n of [
        'model.safetensors',
        'model-00001-of-00002.safetensors',
        'm.onnx',
        'llama.Q4_0.gguf',
        'model.pt',
        'x.pth',
        'pytorch_model.bin',
        'last.ckpt',
        'model.keras',
        'tf_model.h5',
        'w.hdf5',
        'saved_model.pb',
        'model.tflite',
        'dir/Model.ONNX',
      ]) {
        assert.ok(isWeightFileName(n), n);
      }
      for (const n of [
        'config.json',
        'graph.pb',
        'model.safetensors.index.json',
        'README.md',
        'training_args.bin',
        'optimizer.pt',
        'scheduler.pt',
        'rng_state.pth',
        'events.out.tfevents.1',
      ]) {
        assert.ok(!isWeightFileName(n), n);
      }
    });

    it('inspectWeights returns undefined for files that are not weights', async () => {
      await writeFile(at('config.json'), '{}');
      assert.equal(await inspectWeights(at('config.json')), undefined);
    });
  });

  describe('safetensors', () => {
    const tensors = [
      { name: 'embed.weight', dtype: 'F32', shape: [10, 4] },
      { name: 'fc.weight', dtype: 'BF16', shape: [3, 4], fill: 0.5 },
      { name: 'fc.bias', dtype: 'F32', shape: [3] },
      { name: 'steps', dtype: 'I64', shape: [] },
    ];

    it('reads counts, dtypes and metadata from a real file', async () => {
      const f = at('model.safetensors');
      await writeSafetensors(f, tensors, { format: 'pt' });
      const info = await inspectWeights(f);
      assert.ok(info);
      assert.equal(info.format, 'safetensors');
      assert.equal(info.tensorCount, 4);
      assert.equal(info.parameterCount, 40 + 12 + 3 + 1);
      assert.deepEqual(info.dtypes, { F32: 2, BF16: 1, I64: 1 });
      assert.deepEqual(info.details.metadata, { format: 'pt' });
      assert.equal(info.inputs, undefined);
    });

    it('rejects a truncated file', async () => {
      const f = at('truncated.safetensors');
      const bytes = safetensorsBytes(tensors);
      await writeFile(f, bytes.subarray(0, bytes.length - 10));
      await rejectsInput(
        inspectWeights(f),
        f,
        /truncated: tensor '(fc.bias|steps)' ends at byte \d+/,
        `but the file has ${bytes.length - 10} bytes`,
      );
    });

    it('rejects an absurd header length', async () => {
      const f = at('absurd.safetensors');
      const bytes = Buffer.alloc(1024);
      bytes.writeBigUInt64LE(0xffffffffffffffffn);
      await writeFile(f, bytes);
      await rejectsInput(
        inspectWeights(f),
        f,
        'safetensors header length 18446744073709551615 exceeds the file size 1024',
      );
    });

    it('rejects tensor offsets beyond the end of the file', async () => {
      const f = at('offsets.safetensors');
      const header = JSON.stringify({ w: { dtype: 'F32', shape: [1024], data_offsets: [0, 4096] } });
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(header.length));
      await writeFile(f, Buffer.concat([len, Buffer.from(header), Buffer.alloc(2048)]));
      await rejectsInput(
        inspectWeights(f),
        f,
        `truncated: tensor 'w' ends at byte ${8 + header.length + 4096} but the file has ${8 + header.length + 2048} bytes`,
      );
    });

    it('rejects overlapping tensors, invalid JSON and empty files', async () => {
      const overlap = at('overlap.safetensors');
      const header = JSON.stringify({
        a: { dtype: 'U8', shape: [8], data_offsets: [0, 8] },
        b: { dtype: 'U8', shape: [8], data_offsets: [4, 12] },
      });
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(header.length));
      await writeFile(overlap, Buffer.concat([len, Buffer.from(header), Buffer.alloc(12)]));
      await rejectsInput(inspectWeights(overlap), overlap, "'a' and 'b' overlap");

      const badJson = at('json.safetensors');
      len.writeBigUInt64LE(5n);
      await writeFile(badJson, Buffer.concat([len, Buffer.from('{"a":')]));
      await rejectsInput(inspectWeights(badJson), badJson, 'not valid JSON');

      const empty = at('empty.safetensors');
      await writeFile(empty, '');
      await rejectsInput(inspectWeights(empty), empty, 'empty file');
    });
  });

  describe('ONNX', () => {
    it('reads the signature, opset and initializers of a generated classifier', async () => {
      const f = at('model.onnx');
      await writeOnnx(f, { features: 5, classes: 2, metadata: { author: 'tests' } });
      const info = await inspectWeights(f);
      assert.ok(info);
      assert.equal(info.format, 'onnx');
      assert.equal(info.framework, 'onnx');
      assert.deepEqual(info.inputs, [{ name: 'input', dtype: 'float32', shape: ['batch', 5] }]);
      assert.deepEqual(info.outputs, [{ name: 'probabilities', dtype: 'float32', shape: ['batch', 2] }]);
      assert.equal(info.parameterCount, 5 * 2 + 2);
      assert.equal(info.tensorCount, 2);
      assert.deepEqual(info.dtypes, { float32: 2 });
      assert.equal(info.details.opset, 13);
      assert.equal(info.details.irVersion, 8);
      assert.equal(info.details.producerName, 'modelreg-tests');
      assert.equal(info.details.graphName, 'tiny_classifier');
      assert.equal(info.details.nodeCount, 3);
      assert.deepEqual(info.details.opTypes, { Add: 1, MatMul: 1, Softmax: 1 });
      assert.deepEqual(info.details.metadata, { author: 'tests' });
    });

    it('reads real model zoo graphs', async () => {
      const squeeze = await inspectWeights(path.join(FIXTURES, 'light_squeezenet.onnx'));
      assert.ok(squeeze);
      assert.deepEqual(squeeze.inputs, [{ name: 'data_0', dtype: 'float32', shape: [1, 3, 224, 224] }]);
      assert.deepEqual(squeeze.outputs, [{ name: 'softmaxout_1', dtype: 'float32', shape: [1, 1000, 1, 1] }]);
      assert.equal(squeeze.details.opset, 9);
      assert.equal(squeeze.details.irVersion, 3);
      assert.equal(squeeze.details.producerName, 'onnx-caffe2');
      assert.equal(squeeze.details.nodeCount, 105);
      assert.equal((squeeze.details.opTypes as Record<string, number>).Conv, 26);

      const resnet = await inspectWeights(path.join(FIXTURES, 'light_resnet50.onnx'));
      assert.ok(resnet);
      assert.deepEqual(resnet.inputs, [{ name: 'gpu_0/data_0', dtype: 'float32', shape: [1, 3, 224, 224] }]);
      assert.deepEqual(resnet.outputs, [{ name: 'gpu_0/softmax_1', dtype: 'float32', shape: [1, 1000] }]);
      assert.equal(resnet.details.nodeCount, 415);
      assert.equal(resnet.details.opset, 9);

      const alexnet = await inspectWeights(path.join(FIXTURES, 'light_bvlc_alexnet.onnx'));
      assert.ok(alexnet);
      assert.equal(alexnet.details.graphName, 'bvlc_alexnet');
      assert.deepEqual(alexnet.outputs, [{ name: 'prob_1', dtype: 'float32', shape: [1, 1000] }]);
    });

    it('rejects a truncated model', async () => {
      const f = at('truncated.onnx');
      const bytes = onnxModelBytes();
      await writeFile(f, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await rejectsInput(inspectWeights(f), f, 'not a valid ONNX model');
    });

    it('skips tensor data while scanning: a sparse 2.5 GB model reads in a blink', async () => {
      const f = at('huge.onnx');
      const model = onnxModelType();
      const enc = (name: string, obj: Record<string, unknown>) => {
        const t = model.root.lookupType(name);
        return Buffer.from(t.encode(t.fromObject(obj)).finish());
      };
      const varint = (n: number) => {
        const b: number[] = [];
        for (; n >= 0x80; n = Math.floor(n / 0x80)) b.push((n % 0x80) | 0x80);
        return Buffer.from([...b, n]);
      };
      const rawLen = 2.5 * 2 ** 30;
      const tensorHead = enc('onnx.TensorProto', { dims: [rawLen / 4], data_type: 1, name: 'W' });
      const rawTag = Buffer.concat([varint((9 << 3) | 2), varint(rawLen)]);
      const tensorLen = tensorHead.length + rawTag.length + rawLen;
      const value = (name: string) => ({
        name,
        type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'n' }] } } },
      });
      const graphRest = enc('onnx.GraphProto', {
        name: 'huge',
        node: [{ op_type: 'Mul', input: ['x', 'W'], output: ['y'] }],
        input: [value('x')],
        output: [value('y')],
      });
      const initField = Buffer.concat([varint((5 << 3) | 2), varint(tensorLen)]);
      const graphLen = graphRest.length + initField.length + tensorLen;
      const head = enc('onnx.ModelProto', { ir_version: 8, opset_import: [{ version: 17 }] });
      const prefix = Buffer.concat([
        head,
        varint((7 << 3) | 2),
        varint(graphLen),
        graphRest,
        initField,
        tensorHead,
        rawTag,
      ]);
      await writeFile(f, prefix);
      await truncate(f, prefix.length + rawLen); // sparse: no data is written
      const info = await inspectWeights(f);
      assert.equal(info?.parameterCount, rawLen / 4);
      assert.deepEqual(info?.inputs, [{ name: 'x', dtype: 'float32', shape: ['n'] }]);
      await truncate(f, prefix.length + rawLen - 1);
      await rejectsInput(inspectWeights(f), f, 'not a valid ONNX model: truncated: field 7 at byte');
      await rm(f);
    });

    it('rejects a truncated real model', async () => {
      const f = at('truncated_resnet.onnx');
      const bytes = await readFile(path.join(FIXTURES, 'light_resnet50.onnx'));
      await writeFile(f, bytes.subarray(0, 40000));
      await rejectsInput(inspectWeights(f), f, 'not a valid ONNX model');
    });

    it('rejects random bytes and text', async () => {
      // A fixed pseudo-random sequence so the test is reproducible.
      let x = 12345;
      for (const seed of [1, 2, 3, 4, 5]) {
        const bytes = Buffer.alloc(4096, 0);
        for (let i = 0; i < bytes.length; i++) {
          x = (x * 1103515245 + 12345 + seed) & 0x7fffffff;
          bytes[i] = x >> 16;
        }
        const f = at(`random${seed}.onnx`);
        await writeFile(f, bytes);
        await rejectsInput(inspectWeights(f), f, 'not a valid ONNX model');
      }
      const text = at('text.onnx');
      await writeFile(text, 'this is not a model at all\n');
      await rejectsInput(inspectWeights(text), text, 'not a valid ONNX model');
      const empty = at('empty.onnx');
      await writeFile(empty, '');
      await rejectsInput(inspectWeights(empty), empty, 'empty file');
    });
  });

  describe('GGUF', () => {
    const opts = {
      metadata: {
        'general.architecture': 'llama',
        'general.name': 'Tiny Llama',
        'general.file_type': 2,
        'llama.context_length': 2048,
        'llama.embedding_length': 64,
        'llama.rope.freq_base': 10000.5,
        'llama.attention.layer_norm_rms_epsilon': 1e-5,
        'general.tags': ['a', 'b'],
        'tokenizer.ggml.model': 'llama',
        'tokenizer.ggml.tokens': Array.from({ length: 300 }, (_, i) => `tok${i}`),
        'tokenizer.ggml.scores': Array.from({ length: 300 }, () => 0.5),
        'general.big': 5000000000n,
      },
      tensors: [
        { name: 'token_embd.weight', shape: [64, 300], type: 'Q4_0' },
        { name: 'blk.0.attn_q.weight', shape: [64, 64], type: 'Q8_0' },
        { name: 'blk.0.attn_norm.weight', shape: [64], type: 'F32' },
        { name: 'output.weight', shape: [64, 300], type: 'F16' },
      ],
    };

    it('reads architecture, metadata and tensor infos', async () => {
      const f = at('tiny.gguf');
      await writeGguf(f, opts);
      const info = await inspectWeights(f);
      assert.ok(info);
      assert.equal(info.format, 'gguf');
      assert.equal(info.tensorCount, 4);
      assert.equal(info.parameterCount, 64 * 300 + 64 * 64 + 64 + 64 * 300);
      assert.deepEqual(info.dtypes, { Q4_0: 1, Q8_0: 1, F32: 1, F16: 1 });
      assert.equal(info.details.version, 3);
      assert.equal(info.details.architecture, 'llama');
      assert.equal(info.details.name, 'Tiny Llama');
      assert.equal(info.details.contextLength, 2048);
      assert.equal(info.details.tokenizer, 'llama');
      const md = info.details.metadata as Record<string, unknown>;
      assert.deepEqual(md['general.tags'], ['a', 'b']);
      assert.deepEqual(md['tokenizer.ggml.tokens'], { type: 'string', length: 300 });
      assert.deepEqual(md['tokenizer.ggml.scores'], { type: 'float32', length: 300 });
      assert.equal(md['llama.rope.freq_base'], 10000.5);
      assert.equal(md['llama.attention.layer_norm_rms_epsilon'], 1e-5);
      assert.equal(md['general.big'], 5000000000);
      assert.doesNotThrow(() => JSON.stringify(info));
    });

    it('reads version 2 and a GGUF named .bin', async () => {
      const f = at('ggml-model.bin');
      await writeGguf(f, { ...opts, version: 2 });
      const info = await inspectWeights(f);
      assert.equal(info?.format, 'gguf');
      assert.equal(info?.details.version, 2);
    });

    it('rejects a bad magic', async () => {
      const f = at('magic.gguf');
      const bytes = ggufBytes(opts);
      bytes.write('XXXX', 0, 'latin1');
      await writeFile(f, bytes);
      await rejectsInput(inspectWeights(f), f, "not a GGUF file (magic 'XXXX')");
    });

    it('rejects an absurd string length', async () => {
      const f = at('string.gguf');
      const bytes = ggufBytes({ metadata: { 'general.architecture': 'llama' } });
      // header: magic 4, version 4, tensor count 8, kv count 8, then the key's u64 length.
      bytes.writeBigUInt64LE(0x7fffffffffffn, 24);
      await writeFile(f, bytes);
      await rejectsInput(
        inspectWeights(f),
        f,
        'metadata key 0',
        'declares 140737488355327 bytes',
        'remain in the file',
      );
    });

    it('rejects a tensor of a type ggml does not have, naming the tensor', async () => {
      const f = at('type999.gguf');
      const bytes = ggufBytes({ tensors: [{ name: 'blk.odd', shape: [4] }] });
      // The tensor info: name, u32 dimension count, one u64 dimension, then the u32 type.
      bytes.writeUInt32LE(999, bytes.indexOf('blk.odd') + 'blk.odd'.length + 4 + 8);
      await writeFile(f, bytes);
      await rejectsInput(inspectWeights(f), f, "tensor 'blk.odd' has unknown ggml type 999");
    });

    it('rejects an absurd tensor count and a truncated file', async () => {
      const counts = at('counts.gguf');
      const bytes = ggufBytes(opts);
      bytes.writeBigUInt64LE(1n << 40n, 8);
      await writeFile(counts, bytes);
      await rejectsInput(inspectWeights(counts), counts, 'absurd tensor count 1099511627776');

      const cut = at('cut.gguf');
      await writeGguf(cut, opts);
      const full = ggufBytes(opts).length;
      await truncate(cut, full - 100);
      await rejectsInput(
        inspectWeights(cut),
        cut,
        "truncated: tensor 'output.weight' ends at byte",
        `the file has ${full - 100} bytes`,
      );

      const header = at('header.gguf');
      await writeFile(header, ggufBytes(opts).subarray(0, 300));
      await rejectsInput(inspectWeights(header), header, /truncated|remain in the file/);

      const empty = at('empty.gguf');
      await writeFile(empty, '');
      await rejectsInput(inspectWeights(empty), empty, 'empty file');
    });
  });

  describe('PyTorch', () => {
    it('describes a torch zip without unpickling', async () => {
      const f = at('model.pt');
      await writeTorchZip(f, { prefix: 'model', storages: [64, 32, 4] });
      const info = await inspectWeights(f);
      assert.ok(info);
      assert.equal(info.format, 'pytorch');
      assert.equal(info.framework, 'torch');
      assert.deepEqual(info.details, {
        archivePrefix: 'model',
        storageCount: 3,
        storageBytes: 100,
        pickleBytes: 6,
        version: 3,
        byteorder: 'little',
      });
      assert.equal(info.parameterCount, undefined);
    });

    it('reads pytorch_model.bin and flags TorchScript', async () => {
      const f = at('pytorch_model.bin');
      await writeTorchZip(f, {
        version: null,
        byteorder: null,
        extra: { 'constants.pkl': Buffer.from('80027d71002e', 'hex') },
      });
      const info = await inspectWeights(f);
      assert.equal(info?.format, 'pytorch');
      assert.equal(info?.details.torchscript, true);
      assert.equal(info?.details.version, undefined);
    });

    it('recognises a legacy torch.save pickle', async () => {
      const f = at('legacy.pth');
      await writeLegacyTorch(f);
      const info = await inspectWeights(f);
      assert.deepEqual(info, {
        format: 'pytorch',
        framework: 'torch',
        details: { legacy: true, pickleProtocol: 2, torchMagic: true },
      });
    });

    it('returns undefined for a .bin that is not torch, throws for a broken .pt', async () => {
      const other = at('vocab.bin');
      await writeFile(other, Buffer.from('just some binary data'));
      assert.equal(await inspectWeights(other), undefined);
      const zip = at('other.bin');
      await writeZip(zip, [['readme.txt', Buffer.from('hi')]]);
      assert.equal(await inspectWeights(zip), undefined);

      const bad = at('broken.pt');
      await writeFile(bad, Buffer.from('just some binary data'));
      await rejectsInput(inspectWeights(bad), bad, 'not a PyTorch checkpoint');

      const cut = at('cut.pt');
      await writeTorchZip(cut, { storages: [4096] });
      await truncate(cut, 3000);
      await rejectsInput(inspectWeights(cut), cut, 'not a valid zip archive');

      const empty = at('empty.ckpt');
      await writeFile(empty, '');
      await rejectsInput(inspectWeights(empty), empty, 'empty file');
    });
  });

  describe('Keras', () => {
    it('reads a .keras archive', async () => {
      const f = at('model.keras');
      await writeKerasArchive(f, { kerasVersion: '3.4.1', inputShape: [null, 6] });
      const info = await inspectWeights(f);
      assert.ok(info);
      assert.equal(info.format, 'keras');
      assert.equal(info.framework, 'keras');
      assert.equal(info.details.kerasVersion, '3.4.1');
      assert.equal(info.details.className, 'Sequential');
      assert.equal(info.details.modelName, 'sequential');
      assert.equal(info.details.layerCount, 2);
      assert.deepEqual(info.details.layerTypes, { Dense: 2 });
      assert.equal(info.details.optimizer, 'Adam');
      assert.equal(info.details.weightsBytes, 96);
      assert.deepEqual(info.inputs, [{ name: 'input_layer', dtype: 'float32', shape: ['?', 6] }]);
    });

    it('rejects a .keras archive with invalid config.json or none', async () => {
      const f = at('bad.keras');
      await writeKerasArchive(f, { rawConfig: '{"class_name": ' });
      await rejectsInput(inspectWeights(f), f, 'config.json in the Keras archive is not valid JSON');
      const none = at('none.keras');
      await writeZip(none, [['metadata.json', Buffer.from('{}')]]);
      await rejectsInput(inspectWeights(none), none, 'config.json is missing');
      const notZip = at('text.keras');
      await writeFile(notZip, 'hello');
      await rejectsInput(inspectWeights(notZip), notZip, 'not a valid zip archive');
    });

    it('reads Keras attributes from an HDF5 file', async () => {
      const f = at('model.h5');
      await writeKerasH5(f, { kerasVersion: '2.15.0', backend: 'tensorflow' });
      const info = await inspectWeights(f);
      assert.ok(info);
      assert.equal(info.format, 'h5');
      assert.equal(info.framework, 'keras');
      assert.equal(info.details.kerasVersion, '2.15.0');
      assert.equal(info.details.backend, 'tensorflow');
      assert.equal(info.details.className, 'Sequential');
      assert.equal(info.details.layerCount, 2);
      assert.deepEqual(info.inputs, [{ name: 'input_layer', dtype: 'float32', shape: ['?', 4] }]);

      const weightsOnly = at('weights.hdf5');
      await writeKerasH5(weightsOnly, { withModelConfig: false, userBlock: 512 });
      const w = await inspectWeights(weightsOnly);
      assert.equal(w?.framework, 'keras');
      assert.equal(w?.details.weightsOnly, true);
      assert.equal(w?.details.userBlockBytes, 512);
    });

    it('reports a plain HDF5 file as hdf5 and rejects a non-HDF5 .h5', async () => {
      const plain = at('data.h5');
      await writePlainH5(plain);
      assert.deepEqual(await inspectWeights(plain), { format: 'h5', framework: 'hdf5', details: {} });
      const bad = at('bad.h5');
      await writeFile(bad, Buffer.alloc(4096, 7));
      await rejectsInput(inspectWeights(bad), bad, 'not an HDF5 file');
    });
  });

  describe('SavedModel', () => {
    it('reads tags, version and the serving signature', async () => {
      const pb = await writeSavedModel(at('savedmodel'), {
        inputs: [
          { name: 'pixels', dtype: 'float32', shape: [-1, 28, 28] },
          { name: 'ids', dtype: 'int64', shape: [-1] },
        ],
        outputs: [{ name: 'logits', dtype: 'float32', shape: ['?', 10] }],
        extraSignatures: ['predict'],
        variablesBytes: 1000,
      });
      const info = await inspectWeights(pb);
      assert.ok(info);
      assert.equal(info.format, 'savedmodel');
      assert.equal(info.framework, 'tensorflow');
      assert.deepEqual(info.inputs, [
        { name: 'ids', dtype: 'int64', shape: ['?'] },
        { name: 'pixels', dtype: 'float32', shape: ['?', 28, 28] },
      ]);
      assert.deepEqual(info.outputs, [{ name: 'logits', dtype: 'float32', shape: ['?', 10] }]);
      assert.deepEqual(info.details.tags, ['serve']);
      assert.equal(info.details.tensorflowVersion, '2.15.0');
      assert.equal(info.details.signature, 'serving_default');
      assert.deepEqual(info.details.signatures, ['serving_default', 'predict']);
      assert.equal(info.details.methodName, 'tensorflow/serving/predict');
      assert.deepEqual(info.details.variables, { indexBytes: 32, shards: 1, dataBytes: 1000 });
    });

    it('rejects a corrupt saved_model.pb', async () => {
      const pb = await writeSavedModel(at('corrupt'));
      const bytes = await readFile(pb);
      await writeFile(pb, bytes.subarray(0, bytes.length - 7));
      await rejectsInput(inspectWeights(pb), pb, 'not a valid SavedModel protobuf');
      await writeFile(pb, 'not a protobuf, just text');
      await rejectsInput(inspectWeights(pb), pb, 'not a valid SavedModel protobuf');
    });
  });

  describe('TFLite', () => {
    it('reads the model table and the main subgraph signature', async () => {
      const f = at('model.tflite');
      await writeTflite(f, { description: 'test converter' });
      const info = await inspectWeights(f);
      assert.ok(info);
      assert.equal(info.format, 'tflite');
      assert.equal(info.framework, 'tflite');
      assert.deepEqual(info.inputs, [{ name: 'serving_default_x:0', dtype: 'float32', shape: ['?', 4] }]);
      assert.deepEqual(info.outputs, [{ name: 'StatefulPartitionedCall:0', dtype: 'float32', shape: ['?', 3] }]);
      assert.equal(info.parameterCount, 15);
      assert.equal(info.tensorCount, 2);
      assert.deepEqual(info.dtypes, { float32: 2 });
      assert.equal(info.details.schemaVersion, 3);
      assert.equal(info.details.description, 'test converter');
      assert.equal(info.details.subgraphCount, 1);
      assert.equal(info.details.operatorCount, 1);
      assert.equal(info.details.tensorTotal, 4);
      assert.equal(info.details.minRuntimeVersion, '1.5.0');
      assert.deepEqual(info.details.signatures, ['serving_default']);
    });

    it('reads int8 tensors without shape signatures', async () => {
      const f = at('quant.tflite');
      await writeTflite(f, {
        inputs: [{ name: 'x', dtype: 'int8', shape: [1, 8] }],
        outputs: [{ name: 'y', dtype: 'int8', shape: [1, 2] }],
        constants: [{ name: 'w', dtype: 'int8', shape: [2, 8] }],
        signatureKey: null,
        minRuntimeVersion: null,
      });
      const info = await inspectWeights(f);
      assert.deepEqual(info?.inputs, [{ name: 'x', dtype: 'int8', shape: [1, 8] }]);
      assert.deepEqual(info?.dtypes, { int8: 1 });
      assert.equal(info?.parameterCount, 16);
    });

    it('rejects out-of-range offsets, a wrong identifier and empty files', async () => {
      const f = at('offset.tflite');
      const bytes = tfliteBytes();
      bytes.writeUInt32LE(0x7ffffff0, 0);
      await writeFile(f, bytes);
      await rejectsInput(inspectWeights(f), f, 'corrupt TFLite model', 'outside the file');

      // Every truncation of a valid model must give an InputError, never a crash.
      const valid = tfliteBytes();
      const cut = at('cut.tflite');
      for (const len of [12, 40, Math.floor(valid.length / 2), valid.length - 20]) {
        await writeFile(cut, valid.subarray(0, len));
        await rejectsInput(inspectWeights(cut), cut, 'corrupt TFLite model');
      }

      const ident = at('ident.tflite');
      await writeFile(ident, Buffer.from('0000ABCD00000000'));
      await rejectsInput(inspectWeights(ident), ident, "not a TFLite model (file identifier 'ABCD'");
      const empty = at('empty.tflite');
      await writeFile(empty, '');
      await rejectsInput(inspectWeights(empty), empty, 'empty file');
    });
  });
});

// ---------------------------------------------------------------- real files (test/fixtures/weights, made by make_fixtures.py / make_tfjs.mjs)

const REAL = repoPath('test/fixtures/weights');
const real = (name: string) => path.join(REAL, name);

describe('weight readers on real files', () => {
  let dir: string;
  const at = (name: string) => path.join(dir, name);
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'modelreg-real-weights-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('parameter counts', () => {
    it('ONNX: counts Constant nodes and the weights inside If branches and Loop bodies', async () => {
      const info = await inspectWeights(real('control_flow.onnx'));
      // top_w 256 + value_floats 3 + initializer 4 + then_w 128 + else_w 128 + body_b 8
      assert.equal(info?.parameterCount, 527);
      assert.equal(info?.tensorCount, 6);
      assert.equal(info?.details.constantTensors, 4);
      assert.equal(info?.details.subgraphs, 3);
      assert.deepEqual(
        info?.inputs?.map((i) => i.name),
        ['input', 'flag', 'trips'],
      );
    });

    it('PyTorch: counts the state_dict at import without running the pickle (zip, legacy, Lightning, whole module)', async () => {
      // Conv2d 112 + BatchNorm2d 17 + Linear 10, in 9 tensors
      for (const f of ['tiny_state_dict.pt', 'tiny_legacy.pt', 'tiny_lightning.ckpt', 'tiny_full_model.pt']) {
        const info = await inspectWeights(real(f));
        assert.equal(info?.parameterCount, 139, f);
        assert.equal(info?.tensorCount, 9, f);
        assert.deepEqual(info?.dtypes, { F32: 8, I64: 1 }, f);
      }
    });

    it('Keras: counts HDF5 dataset shapes, without the optimizer (Keras 2 .h5, Keras 3 .weights.h5 and .keras)', async () => {
      const k2 = await inspectWeights(real('keras2.h5'));
      assert.equal(k2?.parameterCount, 6 * 5 + 5 + 5 * 3 + 3);
      assert.equal(k2?.tensorCount, 4);
      assert.equal(k2?.details.kerasVersion, '2.11.0');
      assert.equal(k2?.details.backend, 'tensorflow');
      assert.deepEqual(k2?.inputs, [{ name: 'input_1', dtype: 'float32', shape: ['?', 6] }]);
      const k3 = await inspectWeights(real('keras3.weights.h5'));
      assert.equal(k3?.parameterCount, 53);
      const archive = at('model.keras');
      await writeZip(archive, [
        ['metadata.json', Buffer.from('{"keras_version": "3.3.3"}')],
        ['config.json', Buffer.from(JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers: [] } }))],
        ['model.weights.h5', await readFile(real('keras3.weights.h5'))],
      ]);
      const k = await inspectWeights(archive);
      assert.equal(k?.format, 'keras');
      assert.equal(k?.parameterCount, 53);
    });

    it('refuses absurd declared shapes (2^80 elements, negative), naming the file and the tensor', async () => {
      await rejectsInput(
        inspectWeights(real('absurd_shape.onnx')),
        real('absurd_shape.onnx'),
        'tensor "huge"',
        'more than 2^53 elements',
      );
      await rejectsInput(
        inspectWeights(real('negative_shape.onnx')),
        real('negative_shape.onnx'),
        'tensor "bad"',
        '[-1, 3]',
      );
      await rejectsInput(
        inspectWeights(real('absurd_shape.pt')),
        real('absurd_shape.pt'),
        'tensor "huge.weight"',
        '[1099511627776, 1099511627776]',
      );
      await rejectsInput(
        inspectWeights(real('negative_shape.pt')),
        real('negative_shape.pt'),
        'tensor "bad.weight"',
        'non-negative',
      );
      await rejectsInput(
        inspectWeights(real('absurd_shape.weights.h5')),
        real('absurd_shape.weights.h5'),
        '/layers/huge/vars/0',
        'more than 2^53 elements',
      );
    });
  });

  describe('pickles', () => {
    const warningsOf = (info: { details: Record<string, unknown> } | undefined) =>
      info?.details.warnings as string[] | undefined;

    it('flags a .pt whose pickle names posix.system, zip or bare, without running it', async () => {
      const marker = path.join(process.cwd(), 'MARKER');
      for (const f of ['hostile.pt', 'hostile_pickle.pt']) {
        const info = await inspectWeights(real(f));
        assert.equal(info?.format, 'pytorch', f);
        assert.deepEqual(warningsOf(info), ['loading this file with torch.load would call posix.system'], f);
      }
      assert.equal((await inspectWeights(real('hostile.pt')))?.parameterCount, 8); // fc.weight, beside the payload
      assert.ok(!existsSync(marker), 'the pickle ran');
    });

    it('names the classes a whole pickled module would import, and nothing for a state_dict', async () => {
      assert.equal(warningsOf(await inspectWeights(real('tiny_state_dict.pt'))), undefined);
      assert.equal(warningsOf(await inspectWeights(real('tiny_lightning.ckpt'))), undefined);
      const full = warningsOf(await inspectWeights(real('tiny_full_model.pt')));
      assert.equal(full?.length, 1);
      assert.match(
        full![0],
        /^loading this file with torch\.load would call __main__\.Tiny, torch\.nn\.modules\.conv\.Conv2d/,
      );
    });

    it('describes scikit-learn pickles and joblib files from their globals; warns only about what is not scikit-learn', async () => {
      for (const f of ['forest.pkl', 'forest.joblib']) {
        const info = await inspectWeights(real(f));
        assert.equal(info?.format, 'pickle', f);
        assert.equal(info?.framework, 'scikit-learn', f);
        assert.equal(info?.details.description, 'scikit-learn pickle (RandomForestClassifier)', f);
        assert.equal(info?.details.sklearnVersion, '1.2.1', f);
        assert.equal(warningsOf(info), undefined, f);
      }
      // joblib writes array bytes inline between opcodes; the scan steps over them to the payload after.
      const hostile = await inspectWeights(real('forest_hostile.joblib'));
      assert.equal(hostile?.details.description, 'scikit-learn pickle (RandomForestClassifier)');
      assert.deepEqual(warningsOf(hostile), [
        'loading this file with pickle.load or joblib.load would call posix.system',
      ]);
    });
  });

  describe('TF.js', () => {
    it('reads a layers model: format tfjs, parameters from the manifest shapes, shards', async () => {
      const info = await inspectWeights(real('tfjs-layers/model.json'));
      assert.equal(info?.format, 'tfjs');
      assert.equal(info?.parameterCount, 4 * 3 + 3 + 3 * 2 + 2);
      assert.equal(info?.tensorCount, 4);
      assert.deepEqual(info?.dtypes, { float32: 4 });
      assert.deepEqual(info?.details.shards, ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
      assert.equal(info?.details.tfjsFormat, 'layers-model');
      assert.equal(info?.details.layerCount, 2);
      assert.deepEqual(info?.inputs, [{ name: 'input', dtype: 'float32', shape: ['?', 4] }]);
    });

    it('reads a graph model with its signature', async () => {
      const info = await inspectWeights(real('tfjs-graph/model.json'));
      assert.equal(info?.parameterCount, 10);
      assert.equal(info?.details.tfjsFormat, 'graph-model');
      assert.deepEqual(info?.inputs, [{ name: 'x', dtype: 'float32', shape: ['?', 4] }]);
      assert.deepEqual(info?.outputs, [{ name: 'scores', dtype: 'float32', shape: ['?', 2] }]);
    });

    it('ignores other model.json files; refuses missing or short shards and shards outside the folder', async () => {
      const d = path.join(dir, 'tfjs-broken');
      await rm(d, { recursive: true, force: true });
      await mkdir(d);
      const f = path.join(d, 'model.json');
      await writeFile(f, '{"name": "some app", "version": 2}');
      assert.equal(await inspectWeights(f), undefined);
      const json = JSON.parse(await readFile(real('tfjs-layers/model.json'), 'utf8'));
      await writeFile(f, JSON.stringify(json));
      await rejectsInput(inspectWeights(f), f, 'group1-shard1of2.bin', 'missing');
      await writeFile(path.join(d, 'group1-shard1of2.bin'), Buffer.alloc(46));
      await writeFile(path.join(d, 'group1-shard2of2.bin'), Buffer.alloc(40));
      await rejectsInput(inspectWeights(f), f, 'declares 92 bytes of weights, but its shards hold 86');
      json.weightsManifest[0].paths = ['../../etc/passwd'];
      await writeFile(f, JSON.stringify(json));
      await rejectsInput(inspectWeights(f), f, "outside the model's folder");
      json.weightsManifest[0].paths = ['group1-shard1of2.bin'];
      json.weightsManifest[0].weights[0].shape = [2 ** 40, 2 ** 40];
      await writeFile(f, JSON.stringify(json));
      await rejectsInput(inspectWeights(f), f, 'tensor "hidden/kernel"', 'more than 2^53');
    });
  });

  describe('folders of weights (inspectOutput)', () => {
    const inspectDir = async (d: string) => inspectOutput(d, await walkFiles(d));
    const fresh = async (name: string) => {
      const d = path.join(dir, name);
      await rm(d, { recursive: true, force: true });
      await mkdir(d, { recursive: true });
      return d;
    };

    it('lists independent models each with its own count and signature, and sums none of them', async () => {
      const d = await fresh('wakewords');
      await writeOnnx(path.join(d, 'melspectrogram.onnx'), { features: 4, classes: 2, inputName: 'audio' });
      await writeOnnx(path.join(d, 'embedding.onnx'), { features: 8, classes: 3, inputName: 'mel' });
      await writeOnnx(path.join(d, 'hey_jarvis.onnx'), { features: 3, classes: 1, inputName: 'emb' });
      const out = await inspectDir(d);
      assert.equal(out.format, 'onnx');
      assert.equal(out.parameterCount, null);
      assert.deepEqual(out.signature, {});
      const byFile = Object.fromEntries(out.models.map((m) => [m.files.join(','), m]));
      assert.deepEqual(Object.keys(byFile).sort(), ['embedding.onnx', 'hey_jarvis.onnx', 'melspectrogram.onnx']);
      assert.equal(byFile['embedding.onnx'].parameterCount, 8 * 3 + 3);
      assert.equal(byFile['melspectrogram.onnx'].signature.inputs?.[0].name, 'audio');
      assert.equal(byFile['hey_jarvis.onnx'].signature.outputs?.[0].shape[1], 1);

      // Imported, the version keeps the list, and `modelreg show` prints a line per model.
      const r = await Registry.open(path.join(dir, 'reg-wakewords'));
      try {
        const v = await importTrainingOutput(r, d, { model: 'wake' });
        assert.equal(v.parameterCount, null);
        assert.deepEqual(modelsOf(v.details), [
          'embedding.onnx  onnx, 27 parameters  mel float32[batch, 8] → probabilities float32[batch, 3]',
          'hey_jarvis.onnx  onnx, 4 parameters  emb float32[batch, 3] → probabilities float32[batch, 1]',
          'melspectrogram.onnx  onnx, 10 parameters  audio float32[batch, 4] → probabilities float32[batch, 2]',
        ]);
      } finally {
        await r.close();
      }
    });

    it('sums the shards of one model, by name and by index file; copies of one model keep its count', async () => {
      const d = await fresh('sharded');
      await writeSafetensors(path.join(d, 'model-00001-of-00002.safetensors'), [
        { name: 'a', dtype: 'F32', shape: [10, 4] },
      ]);
      await writeSafetensors(path.join(d, 'model-00002-of-00002.safetensors'), [
        { name: 'b', dtype: 'F32', shape: [6] },
      ]);
      const named = await inspectDir(d);
      assert.equal(named.models.length, 1);
      assert.equal(named.parameterCount, 46);

      const e = await fresh('indexed');
      await writeSafetensors(path.join(e, 'first.safetensors'), [{ name: 'a', dtype: 'F32', shape: [10, 4] }]);
      await writeSafetensors(path.join(e, 'second.safetensors'), [{ name: 'b', dtype: 'F32', shape: [6] }]);
      await writeFile(
        path.join(e, 'model.safetensors.index.json'),
        JSON.stringify({ metadata: {}, weight_map: { a: 'first.safetensors', b: 'second.safetensors' } }),
      );
      assert.equal((await inspectDir(e)).parameterCount, 46);

      const c = await fresh('copies');
      await writeFile(path.join(c, 'best.pt'), await readFile(real('tiny_state_dict.pt')));
      await writeFile(path.join(c, 'last.pt'), await readFile(real('tiny_legacy.pt')));
      const copies = await inspectDir(c);
      assert.equal(copies.models.length, 2);
      assert.equal(copies.parameterCount, 139);
    });

    it("gives a TF.js model's shards the weights role", async () => {
      const out = await inspectDir(path.join(REAL, 'tfjs-layers'));
      assert.equal(out.format, 'tfjs');
      assert.equal(out.parameterCount, 23);
      assert.deepEqual([...out.roles.entries()].sort(), [
        ['group1-shard1of2.bin', 'weights'],
        ['group1-shard2of2.bin', 'weights'],
        ['model.json', 'weights'],
      ]);
    });
  });
});
