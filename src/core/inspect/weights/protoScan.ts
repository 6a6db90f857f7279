/**
 * Walks a protobuf file's wire format through ranged reads, dropping chosen fields (tensor
 * contents, graph definitions) without reading their bytes. The result is a small message that
 * protobufjs decodes; a multi-GB model never has to be in memory.
 */
import type { FileHandle } from 'fs/promises';
import { readAt, withFile } from './read';

/** Which fields to drop, and which length-delimited fields to prune recursively. */
export interface Prune {
  skip?: number[];
  nested?: Record<number, Prune>;
}

const WINDOW = 1 << 20;
const MAX_DEPTH = 64;

/** Thrown for malformed wire data; callers turn it into an InputError with their wording. */
export class WireError extends Error {}

class Scanner {
  private buf: Buffer = Buffer.alloc(0);
  private bufPos = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  private async bytes(pos: number, n: number): Promise<Buffer> {
    if (pos + n > this.size)
      throw new WireError(`truncated: ${n} bytes at byte ${pos} run past the end of the file (${this.size} bytes)`);
    if (pos < this.bufPos || pos + n > this.bufPos + this.buf.length) {
      if (n > WINDOW) return readAt(this.fh, pos, n);
      this.buf = await readAt(this.fh, pos, Math.min(WINDOW, this.size - pos));
      this.bufPos = pos;
    }
    return this.buf.subarray(pos - this.bufPos, pos - this.bufPos + n);
  }

  /** A varint at `pos`: its value (exact below 2^53) and the position after it. */
  private async varint(pos: number, end: number): Promise<[number, number]> {
    const b = await this.bytes(pos, Math.min(10, end - pos));
    let value = 0;
    for (let i = 0; i < b.length; i++) {
      value += (b[i] & 0x7f) * 2 ** (7 * i);
      if (b[i] < 0x80) return [value, pos + i + 1];
    }
    throw new WireError(`bad varint at byte ${pos}`);
  }

  /** The message in [start, end) re-encoded without the dropped fields. */
  async prune(start: number, end: number, plan: Prune, depth = 0): Promise<Buffer> {
    if (depth > MAX_DEPTH) throw new WireError('messages nested too deeply');
    const out: Buffer[] = [];
    let p = start;
    while (p < end) {
      const [tag, q] = await this.varint(p, end);
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (field === 0) throw new WireError(`field number 0 at byte ${p}`);
      let payload = q;
      let next: number;
      if (wire === 0) next = (await this.varint(q, end))[1];
      else if (wire === 1) next = q + 8;
      else if (wire === 5) next = q + 4;
      else if (wire === 2) {
        const [len, r] = await this.varint(q, end);
        payload = r;
        next = r + len;
      } else throw new WireError(`unsupported wire type ${wire} at byte ${p}`);
      if (next > end) {
        throw new WireError(
          end === this.size
            ? `truncated: field ${field} at byte ${p} ends at byte ${next} but the file has ${this.size} bytes`
            : `field ${field} at byte ${p} runs past the end of its enclosing message (byte ${end})`,
        );
      }

      if (!plan.skip?.includes(field)) {
        const sub = wire === 2 ? plan.nested?.[field] : undefined;
        if (sub) {
          const inner = await this.prune(payload, next, sub, depth + 1);
          out.push(varint(tag), varint(inner.length), inner);
        } else {
          out.push(Buffer.from(await this.bytes(p, next - p)));
        }
      }
      p = next;
    }
    return Buffer.concat(out);
  }
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/** The whole file as a message, pruned by `plan`. Throws WireError on malformed data. */
export async function pruneProtobufFile(file: string, plan: Prune): Promise<{ bytes: Buffer; size: number }> {
  return withFile(file, async (fh, size) => ({ bytes: await new Scanner(fh, size).prune(0, size, plan), size }));
}
