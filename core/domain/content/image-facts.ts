/**
 * Image facts from a bounded head of the object: dimensions (`image-size`) and, through `exifr`, the EXIF
 * orientation and whether EXIF and GPS data are present. GPS values are read only to learn that they exist;
 * they are never copied into a record.
 */
import exifr from "exifr";
import { imageSize } from "image-size";
import type { ImageFacts } from "../types.ts";

/** EXIF sits in the first segments of JPEG, PNG, WebP and TIFF files in practice. */
export const IMAGE_HEAD_BYTES = 256 * 1024;
export const IMAGE_TYPES = new Set(["png", "jpg", "gif", "webp", "bmp", "tif", "avif", "heic", "ico"]);
const EXIF_TYPES = new Set(["jpg", "png", "webp", "tif", "avif", "heic"]);

export function imageFacts(typeId: string) {
  const head: Uint8Array[] = [];
  let kept = 0;
  return {
    update(chunk: Uint8Array) {
      if (kept >= IMAGE_HEAD_BYTES) return;
      const part = chunk.subarray(0, IMAGE_HEAD_BYTES - kept);
      head.push(Uint8Array.from(part));
      kept += part.byteLength;
    },
    buffered: () => kept,
    async finish(): Promise<{ facts: ImageFacts; warnings: string[] }> {
      const bytes = Buffer.concat(head);
      const facts: ImageFacts = { exif: false, gps: false };
      const warnings: string[] = [];
      try {
        const dims = imageSize(bytes);
        if (dims.width && dims.height) {
          facts.width = dims.width;
          facts.height = dims.height;
        } else warnings.push("image dimensions not found");
      } catch (error) {
        warnings.push(`image dimensions unreadable: ${(error as Error).message}`);
      }
      if (EXIF_TYPES.has(typeId)) {
        try {
          const tags = (await exifr.parse(bytes, {
            tiff: true,
            ifd0: {},
            exif: true,
            gps: true,
            interop: false,
            ifd1: false,
            xmp: false,
            icc: false,
            iptc: false,
            ihdr: false,
            jfif: false,
            translateValues: false,
            reviveValues: false,
            sanitize: true,
          })) as Record<string, unknown> | undefined;
          if (tags && Object.keys(tags).length > 0) {
            facts.exif = true;
            facts.gps = Object.keys(tags).some((k) => k.startsWith("GPS") || k === "latitude");
            if (typeof tags.Orientation === "number") facts.orientation = tags.Orientation;
          }
        } catch (error) {
          warnings.push(`EXIF unreadable: ${(error as Error).message}`);
        }
      }
      return { facts, warnings };
    },
  };
}
