import { describe, expect, it } from "vitest";
import { syntheticMp4 } from "#local/simulator/mp4";

/** The top-level boxes of an ISO base media file: each a 32-bit size (itself included) and a type. */
function boxes(file: Buffer): { type: string; size: number }[] {
  const found: { type: string; size: number }[] = [];
  for (let offset = 0; offset < file.length; ) {
    const size = file.readUInt32BE(offset);
    if (size < 8 || offset + size > file.length) throw new Error(`a box at ${offset} claims ${size} bytes`);
    found.push({ type: file.toString("latin1", offset + 4, offset + 8), size });
    offset += size;
  }
  return found;
}

describe("the simulator's videos", () => {
  it("are MP4 files whose boxes (ftyp, moov, mdat) add up to the file, with the video's duration in the movie header", () => {
    const video = syntheticMp4("video-1", 10, 4096);
    expect(boxes(video).map((box) => box.type)).toEqual(["ftyp", "moov", "mdat"]);
    expect(video.toString("latin1", 8, 12)).toBe("isom");
    const movieHeader = video.indexOf("mvhd", 0, "latin1") + 4;
    expect(video.readUInt32BE(movieHeader + 12)).toBe(1000); // timescale
    expect(video.readUInt32BE(movieHeader + 16)).toBe(10_000); // 10 s
    expect(boxes(video).at(-1)?.size).toBe(4096 + 8);
  });

  it("are the same bytes for the same video and other bytes for another", () => {
    expect(syntheticMp4("video-1", 5, 8192).equals(syntheticMp4("video-1", 5, 8192))).toBe(true);
    expect(syntheticMp4("video-1", 5, 8192).equals(syntheticMp4("video-2", 5, 8192))).toBe(false);
  });
});
