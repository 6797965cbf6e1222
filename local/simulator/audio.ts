/**
 * The audio files the simulator serves (video to audio makes them), made here with Node alone so
 * their sizes and headers are real: a WAV (RIFF, 16-bit mono PCM at 8 kHz, a quiet tone whose
 * pitch comes from the audio id) and an MP3 (MPEG-1 Layer III frames at 32 kbit/s, 44.1 kHz,
 * mono, whose empty side information decodes as silence). Also the reading of a WAV's duration,
 * so the rules on an audio's length can be applied to a base64 WAV a client sends.
 */
import { createHash } from "node:crypto";

const WAV_SAMPLE_RATE = 8000;
const WAV_BYTES_PER_SAMPLE = 2;
/** MPEG-1 Layer III, no CRC; 32 kbit/s, 44.1 kHz, no padding; mono. */
const MP3_FRAME_HEADER = Buffer.from([0xff, 0xfb, 0x50, 0xc0]);
/** 144 * 32000 / 44100, rounded down. */
const MP3_FRAME_BYTES = 104;
const MP3_SAMPLES_PER_FRAME = 1152;
const MP3_SAMPLE_RATE = 44_100;

export function syntheticWav(audioId: string, seconds: number): Buffer {
  const samples = Math.round(seconds * WAV_SAMPLE_RATE);
  const dataBytes = samples * WAV_BYTES_PER_SAMPLE;
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(WAV_SAMPLE_RATE, 24);
  header.writeUInt32LE(WAV_SAMPLE_RATE * WAV_BYTES_PER_SAMPLE, 28); // byte rate
  header.writeUInt16LE(WAV_BYTES_PER_SAMPLE, 32); // block align
  header.writeUInt16LE(8 * WAV_BYTES_PER_SAMPLE, 34); // bits per sample
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  const pitch = 220 + (createHash("sha256").update(audioId).digest().readUInt16BE(0) % 440);
  const data = Buffer.alloc(dataBytes);
  for (let sample = 0; sample < samples; sample += 1) {
    data.writeInt16LE(Math.round(2000 * Math.sin((2 * Math.PI * pitch * sample) / WAV_SAMPLE_RATE)), sample * WAV_BYTES_PER_SAMPLE);
  }
  return Buffer.concat([header, data]);
}

export function syntheticMp3(seconds: number): Buffer {
  const frames = Math.max(1, Math.ceil((seconds * MP3_SAMPLE_RATE) / MP3_SAMPLES_PER_FRAME));
  const frame = Buffer.alloc(MP3_FRAME_BYTES);
  MP3_FRAME_HEADER.copy(frame, 0);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

/** The duration in seconds of a PCM WAV, from its fmt and data chunks; undefined when the bytes are not one. */
export function wavSeconds(bytes: Buffer): number | undefined {
  if (bytes.length < 12 || bytes.toString("ascii", 0, 4) !== "RIFF" || bytes.toString("ascii", 8, 12) !== "WAVE") return undefined;
  let byteRate: number | undefined;
  for (let offset = 12; offset + 8 <= bytes.length; ) {
    const id = bytes.toString("ascii", offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === "fmt " && offset + 16 <= bytes.length) byteRate = bytes.readUInt32LE(offset + 16);
    if (id === "data") return byteRate ? size / byteRate : undefined;
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

/** The audio formats Kling takes (.mp3, .wav, .m4a, .aac), told from their first bytes; undefined for anything else. */
export function audioFormatOf(bytes: Buffer): "wav" | "mp3" | "m4a" | "aac" | undefined {
  if (bytes.length >= 12 && bytes.toString("ascii", 0, 4) === "RIFF" && bytes.toString("ascii", 8, 12) === "WAVE") return "wav";
  if (bytes.length >= 3 && bytes.toString("ascii", 0, 3) === "ID3") return "mp3";
  if (bytes.length >= 8 && bytes.toString("ascii", 4, 8) === "ftyp") return "m4a";
  if (bytes.length >= 2 && bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xf6) === 0xf0) return "aac";
  if (bytes.length >= 2 && bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0) return "mp3";
  return undefined;
}
