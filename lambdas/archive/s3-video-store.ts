/** The VideoStore on S3 (and locally on s3rver, through the same client calls). */
import type { Readable } from "node:stream";
import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand, NotFound, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { StoredObject, VideoStore } from "./archive";

/**
 * The parts of a multipart upload and how many are in flight: memory stays within about
 * part size x PARTS_IN_FLIGHT (16 MiB) whatever the video's size (up to 10,000 parts: 80 GB).
 */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

export class S3VideoStore implements VideoStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    /** S3's smallest part is 5 MiB. */
    private readonly partBytes: number = PART_BYTES,
  ) {}

  async find(key: string): Promise<StoredObject | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { bytes: head.ContentLength ?? 0, metadata: head.Metadata ?? {} };
    } catch (error) {
      if (error instanceof NotFound || (error instanceof Error && error.name === "NotFound")) return undefined;
      throw error;
    }
  }

  async upload(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: "video/mp4", ChecksumAlgorithm: "SHA256" },
      partSize: this.partBytes,
      queueSize: PARTS_IN_FLIGHT,
      // The default, said out loud: a failed upload is aborted, so no part is left to pay for.
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async copy(from: string, to: string, metadata: Readonly<Record<string, string>>): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: to,
        CopySource: `${this.bucket}/${from.split("/").map(encodeURIComponent).join("/")}`,
        MetadataDirective: "REPLACE",
        Metadata: { ...metadata },
        ContentType: "video/mp4",
        ChecksumAlgorithm: "SHA256",
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
