import * as assert from 'assert';
import { conversionFacts } from '../../../src/shared/conversion';

// details.conversion as convert.ts records it for onnx-fp16 (files: the converter's report per output).
const onnxDetails = (report: Record<string, unknown>) => ({
  conversion: {
    converter: 'onnx-fp16',
    title: 'ONNX to float16',
    params: { keep_io_types: 'true', verify: 'check' },
    from: 'resnet-cifar@v1',
    sizeBefore: 6000,
    sizeAfter: 3000,
    files: { 'model.onnx': { tensorsConverted: 4, bytesBefore: 6000, bytesAfter: 3000, ...report } },
  },
});

describe('conversion facts', () => {
  it('names the converter, the dtype, the sizes and the verification numbers', () => {
    assert.deepStrictEqual(
      conversionFacts(onnxDetails({ verified: true, maxAbsError: 0.000123456, maxRelError: 3.14e-5, inputsTried: 3 })),
      {
        converter: 'onnx-fp16',
        from: 'resnet-cifar@v1',
        dtype: 'fp16',
        size: '5.86 KiB → 2.93 KiB',
        verification: 'max abs error 0.00012 (relative 0.000031) over 3 input sets',
      },
    );
    assert.strictEqual(conversionFacts(onnxDetails({ verified: false }))?.verification, 'not verified');
    assert.strictEqual(conversionFacts({ conversion: { converter: 'onnx-int8', files: {} } })?.dtype, 'int8');
    assert.strictEqual(conversionFacts({ conversion: { converter: 'my-tool', params: { dtype: 'q4' } } })?.dtype, 'q4');
    // What the converter recorded wins.
    assert.strictEqual(conversionFacts({ conversion: { converter: 'onnx-fp16', dtype: 'mixed' } })?.dtype, 'mixed');
  });

  it('is null for a version that was not converted, or details that are not a record', () => {
    assert.strictEqual(conversionFacts({}), null);
    assert.strictEqual(conversionFacts({ conversion: 'onnx' }), null);
    assert.strictEqual(conversionFacts({ conversion: [1] }), null);
  });
});
