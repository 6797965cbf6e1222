/**
 * Links to archived videos: presigned S3 GET URLs, signed by the API's role (the one role that may
 * read the bucket), valid for the configured time (S3 allows at most 7 days; a URL signed with a
 * role's temporary credentials stops working when they expire, whichever comes first).
 */
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { VideoBucket } from "../common/video-bucket";

export interface VideoLinks {
  readonly lifetimeSeconds: number;
  linkTo(bucket: string, key: string): Promise<string>;
}

export class PresignedVideoLinks implements VideoLinks {
  /** The bucket port gives the client: the Lambda's own on AWS, the embedded S3's locally (started on first use). */
  constructor(
    private readonly videoBucket: () => Promise<VideoBucket>,
    readonly lifetimeSeconds: number,
  ) {}

  async linkTo(bucket: string, key: string): Promise<string> {
    const { client } = await this.videoBucket();
    return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: this.lifetimeSeconds });
  }
}
