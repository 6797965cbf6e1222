/**
 * The video bucket: where Archive keeps every finished video (Kling purges its own copy 30 days
 * after the task). Created here (encrypted, public access blocked, TLS only, versioned: a video
 * overwritten or deleted by mistake can be restored for `noncurrentVersionDays`) or passed in.
 * Only Archive may write to it, no one may delete a version for good; only the API may read from
 * it, to sign links.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { AnyPrincipal, Effect, type IGrantable, type IRole, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, type LifecycleRule, ObjectOwnership, StorageClass } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { ARCHIVE_PREFIXES } from "../lambdas/common/video-bucket";
import type { PipelineConfig } from "./pipeline-config";

interface VideoArchiveProps {
  /** A bucket of your own; without it one is created. */
  readonly bucket?: IBucket;
  readonly config: PipelineConfig["videoArchive"];
}

/** What S3 keeps of an interrupted upload: parts (until aborted) and incoming objects, gone after a day. */
const LEFTOVERS_AFTER = Duration.days(1);

export class VideoArchive extends Construct {
  readonly bucket: IBucket;
  /** The created bucket, which the construct's policy and lifecycle rules apply to; undefined for yours. */
  readonly createdBucket: Bucket | undefined;

  constructor(scope: Construct, id: string, props: VideoArchiveProps) {
    super(scope, id);
    if (props.bucket) {
      this.bucket = props.bucket;
      this.createdBucket = undefined;
      return;
    }
    const { transition, expireAfterDays, noncurrentVersionDays } = props.config;
    const videoRule: LifecycleRule = {
      id: "Videos",
      prefix: ARCHIVE_PREFIXES.videos,
      ...(transition ? { transitions: [{ storageClass: new StorageClass(transition.storageClass), transitionAfter: Duration.days(transition.afterDays) }] } : {}),
      ...(expireAfterDays ? { expiration: Duration.days(expireAfterDays) } : {}),
    };
    this.createdBucket = new Bucket(this, "Videos", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // The videos are the pipeline's only copy once Kling has purged its own.
      removalPolicy: RemovalPolicy.RETAIN,
      versioned: true,
      lifecycleRules: [
        { id: "AbortIncompleteUploads", abortIncompleteMultipartUploadAfter: LEFTOVERS_AFTER },
        // Archive deletes each incoming object once copied: its old version goes a day later too.
        { id: "IncomingLeftovers", prefix: ARCHIVE_PREFIXES.incoming, expiration: LEFTOVERS_AFTER, noncurrentVersionExpiration: LEFTOVERS_AFTER },
        ...(transition || expireAfterDays ? [videoRule] : []),
        { id: "NoncurrentVersions", noncurrentVersionExpiration: Duration.days(noncurrentVersionDays) },
        // A delete marker whose versions have all expired marks nothing.
        { id: "ExpiredDeleteMarkers", expiredObjectDeleteMarker: true },
      ],
    });
    this.bucket = this.createdBucket;
  }

  /**
   * Archive streams into `incoming/`, checks, copies to `videos/`, deletes the incoming object;
   * it reads (HeadObject needs s3:GetObject) only to find what an earlier attempt stored. On a
   * created bucket, a policy refuses every other principal's writes.
   */
  grantArchive(role: IRole): void {
    const objects = (prefix: string) => this.bucket.arnForObjects(`${prefix}*`);
    const all = [objects(ARCHIVE_PREFIXES.videos), objects(ARCHIVE_PREFIXES.incoming)];
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"], resources: all }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ["s3:DeleteObject"], resources: [objects(ARCHIVE_PREFIXES.incoming)] }));
    this.createdBucket?.addToResourcePolicy(
      new PolicyStatement({
        sid: "OnlyArchiveWrites",
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ["s3:PutObject", "s3:DeleteObject"],
        resources: [this.bucket.arnForObjects("*")],
        conditions: { ArnNotEquals: { "aws:PrincipalArn": role.roleArn } },
      }),
    );
    // A version deleted for good may be a video lost: only the lifecycle rules remove versions
    // (an operator who must erase one changes this policy first).
    this.createdBucket?.addToResourcePolicy(
      new PolicyStatement({
        sid: "NoVersionDeletedForGood",
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ["s3:DeleteObjectVersion"],
        resources: [this.bucket.arnForObjects("*")],
      }),
    );
  }

  /** The API signs links to videos: GetObject on `videos/` only. */
  grantLinks(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ["s3:GetObject"], resources: [this.bucket.arnForObjects(`${ARCHIVE_PREFIXES.videos}*`)] }),
    );
  }
}
