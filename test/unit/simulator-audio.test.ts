/** The audio files the simulator makes (video to audio) and reads (avatar and lip-sync sound files): real headers, real durations. */
import { describe, expect, it } from "vitest";
import { audioFormatOf, syntheticMp3, syntheticWav, wavSeconds } from "#local/simulator/audio";

describe("the simulator's audio files", () => {
  it("makes a PCM WAV whose header says 16-bit mono at 8 kHz and whose data lasts the seconds asked", () => {
    const wav = syntheticWav("audio-1", 3);
    expect([wav.toString("ascii", 0, 4), wav.toString("ascii", 8, 12), wav.toString("ascii", 12, 16), wav.toString("ascii", 36, 40)]).toEqual(["RIFF", "WAVE", "fmt ", "data"]);
    expect({ format: wav.readUInt16LE(20), channels: wav.readUInt16LE(22), rate: wav.readUInt32LE(24), bits: wav.readUInt16LE(34) }).toEqual({ format: 1, channels: 1, rate: 8000, bits: 16 });
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wavSeconds(wav)).toBe(3);
    expect(syntheticWav("audio-2", 3).equals(wav)).toBe(false);
    expect(syntheticWav("audio-1", 3).equals(wav)).toBe(true);
  });

  it("makes an MP3 of MPEG-1 Layer III frames at 32 kbit/s, 44.1 kHz, enough of them for the seconds asked", () => {
    const mp3 = syntheticMp3(2);
    const frames = mp3.length / 104;
    expect(Number.isInteger(frames)).toBe(true);
    expect(frames * 1152 / 44_100).toBeGreaterThanOrEqual(2);
    expect((frames - 1) * 1152 / 44_100).toBeLessThan(2);
    for (let offset = 0; offset < mp3.length; offset += 104) expect(mp3.readUInt32BE(offset)).toBe(0xfffb50c0);
  });

  it("tells Kling's audio formats from their first bytes, and nothing else", () => {
    expect(audioFormatOf(syntheticWav("a", 1))).toBe("wav");
    expect(audioFormatOf(syntheticMp3(1))).toBe("mp3");
    expect(audioFormatOf(Buffer.from("ID3\x04\x00\x00", "latin1"))).toBe("mp3");
    expect(audioFormatOf(Buffer.from("\x00\x00\x00\x20ftypM4A ", "latin1"))).toBe("m4a");
    expect(audioFormatOf(Buffer.from([0xff, 0xf1, 0x50, 0x80]))).toBe("aac");
    expect(audioFormatOf(Buffer.from("%PDF-1.7"))).toBeUndefined();
    expect(wavSeconds(Buffer.from("RIFF\x00\x00\x00\x00WAVE", "latin1"))).toBeUndefined();
  });
});
