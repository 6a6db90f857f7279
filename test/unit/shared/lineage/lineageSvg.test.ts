// The lineage graph's layout and markup (plain Node: the module does not import vscode).
import * as assert from 'assert';
import type { Lineage, LineageNode } from '../../../../src/core';
import { layoutLineage, lineageSvg } from '../../../../src/shared/lineage/lineageSvg';

const node = (id: number, ref: string, subject = 'Train'): LineageNode => ({
  id,
  ref,
  model: ref.split('@')[0],
  number: 1,
  format: 'onnx',
  dtype: id === 4 ? 'fp16' : 'fp32',
  sizeBytes: id === 4 ? 3020 : 6040,
  converter: id === 4 ? 'onnx-fp16' : null,
  commit: 'abcdef1234567890',
  subject,
  createdAt: '2026-11-24T00:00:00Z',
  deleted: false,
});

describe('lineage graph', () => {
  const lineage: Lineage = {
    focus: 2,
    nodes: [node(2, 'b@v1'), node(1, 'a@v1'), node(3, 'c@v1'), node(4, 'd@v1', '<script>alert(1)</script> & "quotes"')],
    edges: [
      { from: 1, to: 2, kind: 'clone' },
      { from: 2, to: 3, kind: 'fine-tune' },
      { from: 2, to: 4, kind: 'conversion', converter: 'onnx-fp16' },
    ],
    truncated: false,
  };

  it('puts generations left to right and siblings top to bottom', () => {
    const { nodes, width, height } = layoutLineage(lineage);
    const at = Object.fromEntries(nodes.map((n) => [n.ref, [n.x, n.y]]));
    assert.ok(at['a@v1'][0] < at['b@v1'][0] && at['b@v1'][0] < at['c@v1'][0], 'root, then child, then grandchildren');
    assert.strictEqual(at['c@v1'][0], at['d@v1'][0], 'siblings share a column');
    assert.ok(at['c@v1'][1] < at['d@v1'][1], 'in the order they were made');
    assert.ok(width > at['c@v1'][0] && height > at['d@v1'][1]);
  });

  it('marks the focus, labels edges, escapes commit subjects and makes every node focusable', () => {
    const svg = lineageSvg(lineage);
    assert.match(svg, /<g class="node focus" data-ref="b@v1"/);
    assert.strictEqual((svg.match(/tabindex="0"/g) ?? []).length, 4);
    for (const kind of ['clone', 'fine-tune']) assert.match(svg, new RegExp(`>${kind}</text>`));
    // A conversion's edge names its converter; a node its format, dtype and size.
    assert.match(svg, /<title>conversion: onnx-fp16<\/title>onnx-fp16<\/text>/);
    assert.match(svg, /data-ref="d@v1"[^>]*aria-label="d@v1, onnx · fp16 · 2\.95 KiB · abcdef1,/);
    assert.match(svg, />onnx · fp32 · 5\.90 KiB · abcdef1<\/text>/);
    assert.doesNotMatch(svg, /<script>/);
    assert.match(svg, /&#60;script&#62;/);
  });
});
