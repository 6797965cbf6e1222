/**
 * Links to archived videos: presigned S3 GET URLs, signed by the API's role (the one role that may
 * read the bucket), valid for the configured time (S3 allows at most 7 days; a URL signed with a
 * role's temporary credentials stops working when they expire, whichever comes first).
 */
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

export interface VideoLinks {
  readonly lifetimeSeconds: number;
  linkTo(bucket: string, key: string): Promise<string>;
}

export class PresignedVideoLinks implements VideoLinks {
  private client: S3Client | undefined;

  /** The client is made on first use: the local runner points it at the embedded S3 once that runs. */
  constructor(
    private readonly makeClient: () => S3Client,
    readonly lifetimeSeconds: number,
  ) {}

  linkTo(bucket: string, key: string): Promise<string> {
    this.client ??= this.makeClient();
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: this.lifetimeSeconds });
  }
}
