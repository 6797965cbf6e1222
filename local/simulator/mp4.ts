/**
 * The videos the simulator serves: a small, valid MP4 (ISO base media file) made here at run time,
 * so sizes and checksums are real without anything downloaded. An `ftyp` box, a `moov` holding a
 * movie header of the video's duration, and an `mdat` of deterministic bytes from the video id
 * (each video differs, the same video is the same bytes every time).
 */
import { createHash } from "node:crypto";

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, "ascii");
  return Buffer.concat([header, body]);
}

/** `mvhd`, version 0: times in seconds at a timescale of 1000, unity rate, volume and matrix. */
function movieHeader(durationSeconds: number): Buffer {
  const body = Buffer.alloc(100);
  body.writeUInt32BE(0, 0); // version 0, no flags
  body.writeUInt32BE(1000, 12); // timescale
  body.writeUInt32BE(Math.round(durationSeconds * 1000), 16);
  body.writeUInt32BE(0x00010000, 20); // rate 1.0
  body.writeUInt16BE(0x0100, 24); // volume 1.0
  const matrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
  matrix.forEach((value, index) => body.writeUInt32BE(value, 36 + index * 4));
  body.writeUInt32BE(1, 96); // next track id
  return box("mvhd", body);
}

/** A block of 4 KiB from SHA-256 in counter mode, repeated: the same for the same seed, fast at any size. */
function deterministicBytes(seed: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; counter < 128; counter += 1) blocks.push(createHash("sha256").update(`${seed}:${counter}`).digest());
  return Buffer.alloc(length, Buffer.concat(blocks));
}

export function syntheticMp4(videoId: string, durationSeconds: number, mediaBytes: number): Buffer {
  const fileType = box("ftyp", Buffer.from("isom", "ascii"), Buffer.from([0, 0, 2, 0]), Buffer.from("isomiso2mp41", "ascii"));
  return Buffer.concat([fileType, box("moov", movieHeader(durationSeconds)), box("mdat", deterministicBytes(videoId, mediaBytes))]);
}
