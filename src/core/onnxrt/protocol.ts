/** Messages between OrtSession (session.ts) and its child process (ortHost.ts). */

/** A tensor as it crosses the process boundary: typed arrays survive 'advanced' serialization as they are. */
export interface TensorData {
  /** onnxruntime's type name: float32, float16 (raw bits in a Uint16Array), int64 (BigInt64Array), bool (Uint8Array)… */
  type: string;
  dims: number[];
  data:
    | Float32Array
    | Float64Array
    | Uint16Array
    | Int8Array
    | Uint8Array
    | Int16Array
    | Int32Array
    | Uint32Array
    | BigInt64Array
    | BigUint64Array
    | string[];
}

export interface ValueMeta {
  name: string;
  isTensor: boolean;
  /** Element type of a tensor (float32, int64…); undefined for sequences and maps. */
  type?: string;
  /** Dimensions: numbers, or names of symbolic dimensions; [] when unknown or for a scalar. */
  shape: (number | string)[];
}

export type HostRequest =
  | { id: number; op: 'create'; file: string; options?: Record<string, unknown> }
  | { id: number; op: 'run'; feeds: Record<string, TensorData> }
  | { id: number; op: 'release' };

export type HostReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
