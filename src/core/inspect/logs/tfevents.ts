/** TensorBoard event files (`events.out.tfevents.*`): TFRecord framing around tensorflow.Event protos. */
import * as path from 'path';
import * as protobuf from 'protobufjs';
import * as CRC32C from 'crc-32/crc32c';
import { InputError } from '../../errors';
import { type Deadline, openRegularFile } from '../../util/readFile';
import type { MetricLog } from '../types';
import { SeriesBuilder, toPosix } from './common';
import { TF_TENSOR_SHAPE_PROTO } from '../tfShapeProto';
import { halfToNumber } from '../../util/float16';

/**
 * The parts of tensorflow/core/util/event.proto, framework/summary.proto, tensor.proto and
 * tensor_shape.proto needed for scalars (field numbers as upstream; other fields are skipped).
 */
export const TF_EVENT_PROTO = `
syntax = "proto3";
package tensorflow;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}
message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  int32 data_class = 4;
}
${TF_TENSOR_SHAPE_PROTO}
message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated int32 half_val = 13 [packed = true];
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated int64 int64_val = 10 [packed = true];
}
`;

/** tensorflow.DataType values we can read a scalar from. */
const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_INT32 = 3;
const DT_INT64 = 9;
const DT_BFLOAT16 = 14;
const DT_HALF = 19;

let eventType: protobuf.Type | undefined;
/** The tensorflow.Event message type (parsed once). Exported so tests can write real event files. */
export function tfEventType(): protobuf.Type {
  eventType ??= protobuf.parse(TF_EVENT_PROTO, { keepCase: true }).root.lookupType('tensorflow.Event');
  return eventType;
}

/** TFRecord's masked CRC32C of `data`. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = CRC32C.buf(data) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

const CHUNK = 1 << 20;

/**
 * Calls onRecord with each record's payload, streaming the file. A record cut short by the end of the
 * file (a writer still running) ends the reading quietly; a checksum mismatch is an InputError with
 * the byte offset. The payload buffer is only valid during the call.
 */
export async function forEachTfRecord(
  absPath: string,
  relPath: string,
  onRecord: (data: Buffer) => void,
  deadline?: Deadline,
): Promise<void> {
  const { fh, size: fileSize } = await openRegularFile(absPath, relPath);
  try {
    let buf = Buffer.alloc(0);
    let pos = 0; // read position in buf
    let bufOffset = 0; // file offset of buf[0]
    let eof = false;
    // Ensures n unread bytes are in buf, unless the file ends first.
    const fill = async (n: number): Promise<boolean> => {
      while (buf.length - pos < n && !eof) {
        const rest = buf.length - pos;
        const want = Math.max(CHUNK, n - rest);
        const next = Buffer.allocUnsafe(rest + want);
        buf.copy(next, 0, pos);
        const { bytesRead } = await fh.read(next, rest, want, bufOffset + buf.length);
        if (bytesRead === 0) eof = true;
        bufOffset += pos;
        buf = next.subarray(0, rest + bytesRead);
        pos = 0;
      }
      return buf.length - pos >= n;
    };
    for (;;) {
      if (buf.length - pos < 12 && !(await fill(12))) return;
      const offset = bufOffset + pos;
      const header = buf.subarray(pos, pos + 8);
      if (maskedCrc32c(header) !== buf.readUInt32LE(pos + 8)) {
        throw new InputError(relPath, `corrupt TFRecord at byte offset ${offset}: length checksum mismatch`);
      }
      const len = buf.readUInt32LE(pos + 4) * 2 ** 32 + buf.readUInt32LE(pos);
      if (offset + 16 + len > fileSize) return; // truncated final record
      if (buf.length - pos < 16 + len && !(await fill(16 + len))) return;
      const data = buf.subarray(pos + 12, pos + 12 + len);
      if (maskedCrc32c(data) !== buf.readUInt32LE(pos + 12 + len)) {
        throw new InputError(relPath, `corrupt TFRecord at byte offset ${offset}: data checksum mismatch`);
      }
      pos += 16 + len;
      deadline?.check();
      onRecord(data);
    }
  } finally {
    await fh.close();
  }
}

/** Reads one event file; keys are the summary tags. */
export async function readTfEventsFile(
  absPath: string,
  relPath: string,
  deadline?: Deadline,
): Promise<MetricLog | undefined> {
  const builder = new SeriesBuilder(relPath, deadline);
  await decodeInto(builder, absPath, relPath, '', deadline);
  const series = builder.build(true);
  return series.length ? { source: toPosix(relPath), series } : undefined;
}

/**
 * Reads several event files as one log (one training run, or its train/ and validation/ writers).
 * With more than one file, keys are prefixed by the file's folder relative to the files' common
 * folder ("train/epoch_loss", "validation/epoch_loss"); files in the same folder (a restarted writer)
 * merge into the same series, ordered by step. source = the common folder ("." for the root),
 * files = the event files read.
 */
export async function readTfEventFiles(
  root: string,
  relPaths: string[],
  deadline?: Deadline,
): Promise<MetricLog | undefined> {
  const files = relPaths.map(toPosix).sort();
  if (files.length === 0) return undefined;
  if (files.length === 1) return readTfEventsFile(path.join(root, files[0]), files[0], deadline);
  const dirs = files.map((f) => f.split('/').slice(0, -1));
  let common = dirs[0];
  for (const d of dirs) {
    let i = 0;
    while (i < common.length && i < d.length && common[i] === d[i]) i++;
    common = common.slice(0, i);
  }
  const builder = new SeriesBuilder(common.join('/') || '.', deadline);
  for (let i = 0; i < files.length; i++) {
    const sub = dirs[i].slice(common.length).join('/');
    await decodeInto(builder, path.join(root, files[i]), files[i], sub ? `${sub}/` : '', deadline);
  }
  const series = builder.build(true);
  return series.length ? { source: common.join('/') || '.', files, series } : undefined;
}

async function decodeInto(
  builder: SeriesBuilder,
  absPath: string,
  relPath: string,
  prefix: string,
  deadline?: Deadline,
): Promise<void> {
  const Event = tfEventType();
  // TF2 writes plugin metadata only with a tag's first value, so remember it per tag.
  const pluginOf = new Map<string, string>();
  let index = 0;
  await forEachTfRecord(
    absPath,
    relPath,
    (data) => {
      // The Event message is decoded from a runtime-loaded .proto, so it has no static type.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      let ev: any;
      try {
        ev = Event.decode(data);
      } catch (err) {
        throw new InputError(relPath, `record #${index} is not a TensorFlow Event: ${(err as Error).message}`);
      }
      index++;
      const values = ev.summary?.value;
      if (!values) return;
      const step = toNumber(ev.step);
      const wall: number = ev.wall_time;
      for (const v of values) {
        const tag: string = v.tag || v.node_name;
        const plugin: string | undefined = v.metadata?.plugin_data?.plugin_name;
        if (plugin) pluginOf.set(tag, plugin);
        let x: number | undefined;
        if (v.value === 'simple_value') x = v.simple_value;
        else if (v.value === 'tensor') {
          const p = pluginOf.get(tag);
          // Untagged numeric scalars are accepted too (writers that omit metadata).
          if (p === undefined || p === 'scalars') x = tensorScalar(v.tensor);
        }
        if (x !== undefined) builder.add(prefix + tag, step, x, wall);
      }
    },
    deadline,
  );
}

/** The value of a one-element numeric tensor, else undefined. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a decoded TensorProto (see decodeInto)
function tensorScalar(t: any): number | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const dims: any[] = t.tensor_shape?.dim ?? [];
  if (t.tensor_shape?.unknown_rank || dims.some((d) => toNumber(d.size) !== 1)) return undefined;
  const c: Uint8Array = t.tensor_content;
  const content = c && c.length ? Buffer.from(c.buffer, c.byteOffset, c.length) : undefined;
  switch (t.dtype) {
    case DT_FLOAT:
      return t.float_val.length ? t.float_val[0] : content?.length === 4 ? content.readFloatLE(0) : undefined;
    case DT_DOUBLE:
      return t.double_val.length ? t.double_val[0] : content?.length === 8 ? content.readDoubleLE(0) : undefined;
    case DT_INT32:
      return t.int_val.length ? t.int_val[0] : content?.length === 4 ? content.readInt32LE(0) : undefined;
    case DT_INT64:
      return t.int64_val.length
        ? toNumber(t.int64_val[0])
        : content?.length === 8
          ? Number(content.readBigInt64LE(0))
          : undefined;
    case DT_HALF:
    case DT_BFLOAT16: {
      const bits = t.half_val.length
        ? t.half_val[0] & 0xffff
        : content?.length === 2
          ? content.readUInt16LE(0)
          : undefined;
      if (bits === undefined) return undefined;
      return t.dtype === DT_HALF ? halfToNumber(bits) : bfloat16ToNumber(bits);
    }
    default:
      return undefined;
  }
}

/** protobufjs gives int64 as a Long object (the long package is installed) or a number. */
function toNumber(x: number | { toNumber(): number }): number {
  return typeof x === 'number' ? x : x.toNumber();
}

function bfloat16ToNumber(b: number): number {
  const tmp = Buffer.alloc(4);
  tmp.writeUInt32LE((b << 16) >>> 0);
  return tmp.readFloatLE(0);
}
