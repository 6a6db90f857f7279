/**
 * Thumbnails for the detection review panel's image grid: made on the image pool's worker threads
 * and cached on disk by the image file's SHA-256 (from the dataset manifest), so a second opening
 * of 5,000 images decodes none of them.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { DatasetManifest, DatasetRecord } from '../../registry/datasetTypes';
import type { ImagePool } from '../imagePool';
import { imagePath } from '../view';

/** The longer side of a thumbnail, in pixels (grid cells are smaller; this leaves room for high-DPI screens). */
export const THUMBNAIL_SIDE = 256;

/** Thumbnails under `dir` (the registry's cache), named by the source image's SHA-256. */
export class ThumbnailCache {
  private readonly making = new Map<string, Promise<string | undefined>>();

  constructor(
    readonly dir: string,
    private readonly pool: ImagePool,
  ) {}

  fileOf(sha256: string): string {
    return path.join(this.dir, sha256.slice(0, 2), `${sha256}-${THUMBNAIL_SIDE}.jpg`);
  }

  /** The cached thumbnail's path if it exists already (no decoding). */
  async cached(sha256: string): Promise<string | undefined> {
    const f = this.fileOf(sha256);
    return (await fsp.stat(f).catch(() => undefined))?.isFile() ? f : undefined;
  }

  /** The thumbnail of `image` (whose content hashes to sha256), made if needed; undefined when the image cannot be read. */
  get(image: string, sha256: string): Promise<string | undefined> {
    let p = this.making.get(sha256);
    if (!p) {
      p = this.make(image, sha256).finally(() => this.making.delete(sha256));
      this.making.set(sha256, p);
    }
    return p;
  }

  private async make(image: string, sha256: string): Promise<string | undefined> {
    const hit = await this.cached(sha256);
    if (hit) return hit;
    let bytes: Uint8Array;
    try {
      bytes = await this.pool.thumbnail(image, THUMBNAIL_SIDE);
    } catch {
      return undefined; // a missing or corrupt image: the grid draws its boxes on a blank canvas
    }
    const f = this.fileOf(sha256);
    await fsp.mkdir(path.dirname(f), { recursive: true });
    // Written aside and renamed, so a reader never sees half a file.
    const part = `${f}.${process.pid}-${Math.random().toString(16).slice(2)}.part`;
    await fsp.writeFile(part, bytes);
    await fsp.rename(part, f);
    return f;
  }
}

/** Where a detection image is and what it is: its file (absent when the dataset has no images, or the path leads outside them), size and hash. */
export interface ReviewImage {
  file?: string;
  width: number;
  height: number;
  sha256?: string;
}

/** The folder a detection dataset's image files are under: COCO's --images, else the dataset root (YOLO, VOC). */
export function imagesDirOf(dataset: DatasetRecord): string {
  const dir = dataset.details.imagesDir;
  return typeof dir === 'string' && path.isAbsolute(dir) ? dir : dataset.root;
}

/** Every image of a detection dataset by sample id, for drawing it and finding its thumbnail. */
export function reviewImages(dataset: DatasetRecord, manifest: DatasetManifest): Map<string, ReviewImage> {
  const dir = imagesDirOf(dataset);
  const missing = manifest.detection?.imagesMissing === true;
  const sha = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  const out = new Map<string, ReviewImage>();
  for (const s of manifest.samples)
    out.set(s.id, {
      file: missing ? undefined : imagePath(dir, s.file),
      width: s.image?.width ?? 0,
      height: s.image?.height ?? 0,
      sha256: sha.get(s.file),
    });
  return out;
}
