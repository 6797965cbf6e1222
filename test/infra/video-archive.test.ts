import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { KlingVideoPipeline } from "#lib/kling-video-pipeline";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";

let template: Template;
let bucketId: string;
let archiveRoleId: string;
let apiRoleId: string;

beforeAll(() => {
  const { stack, template: json } = synthesizePipeline({
    videoArchive: { transition: { storageClass: "GLACIER_IR", afterDays: 90 }, expireAfterDays: 365, linkSeconds: 600, noncurrentVersionDays: 45 },
  });
  template = Template.fromJSON(json);
  bucketId = logicalIdOf(stack, stack.pipeline.videoArchive.bucket);
  archiveRoleId = logicalIdOf(stack, stack.pipeline.functions.archive.role ?? stack);
  apiRoleId = logicalIdOf(stack, stack.pipeline.apiFunction?.role ?? stack);
});

const statementsOfRole = (roleId: string) =>
  Object.values(template.findResources("AWS::IAM::Policy"))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
const s3ActionsOf = (roleId: string) =>
  statementsOfRole(roleId)
    .flatMap((statement) => [statement.Action].flat())
    .filter((action) => action.startsWith("s3:"))
    .sort();

describe("the video bucket", () => {
  it("is encrypted, blocks every public access, is kept when the stack goes, and answers TLS only", () => {
    template.hasResource("AWS::S3::Bucket", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      }),
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("refuses writes from every principal but Archive's role", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: "OnlyArchiveWrites",
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: ["s3:PutObject", "s3:DeleteObject"],
            Condition: { ArnNotEquals: { "aws:PrincipalArn": { "Fn::GetAtt": [archiveRoleId, "Arn"] } } },
          }),
        ]),
      },
    });
  });

  it("aborts incomplete multipart uploads and empties incoming/ after a day; moves and expires videos as configured", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: {
        Rules: [
          { Id: "AbortIncompleteUploads", Status: "Enabled", AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
          { Id: "IncomingLeftovers", Status: "Enabled", Prefix: "incoming/", ExpirationInDays: 1, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
          { Id: "Videos", Status: "Enabled", Prefix: "videos/", ExpirationInDays: 365, Transitions: [{ StorageClass: "GLACIER_IR", TransitionInDays: 90 }] },
          { Id: "NoncurrentVersions", Status: "Enabled", NoncurrentVersionExpiration: { NoncurrentDays: 45 } },
          { Id: "ExpiredDeleteMarkers", Status: "Enabled", ExpiredObjectDeleteMarker: true },
        ],
      },
    });
  });

  it("keeps versions, so a video overwritten or deleted by mistake can be restored, and keeps a replaced one 30 days by default", () => {
    template.hasResourceProperties("AWS::S3::Bucket", { VersioningConfiguration: { Status: "Enabled" } });
    const { template: json } = synthesizePipeline();
    Template.fromJSON(json).hasResourceProperties("AWS::S3::Bucket", {
      VersioningConfiguration: { Status: "Enabled" },
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: "NoncurrentVersions", Status: "Enabled", NoncurrentVersionExpiration: { NoncurrentDays: 30 } }]) },
    });
  });

  it("lets no one delete a version for good: only the lifecycle rules remove versions", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: "NoVersionDeletedForGood",
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "s3:DeleteObjectVersion",
            Resource: { "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, "/*"]] },
          },
        ]),
      },
    });
  });

  it("lets Archive write, copy and clean up its own prefixes, and the API only read videos/ (to sign links)", () => {
    expect(s3ActionsOf(archiveRoleId)).toEqual(["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]);
    expect(s3ActionsOf(apiRoleId)).toEqual(["s3:GetObject"]);
    const apiResources = JSON.stringify(statementsOfRole(apiRoleId).filter((statement) => [statement.Action].flat().includes("s3:GetObject")));
    expect(apiResources).toContain("/videos/*");
    expect(apiResources).not.toContain("/incoming/*");
    for (const [name, fn] of Object.entries(template.findResources("AWS::IAM::Policy"))) {
      const roles = JSON.stringify(fn.Properties.Roles);
      if (roles.includes(archiveRoleId) || roles.includes(apiRoleId)) continue;
      expect(JSON.stringify(fn.Properties.PolicyDocument), name).not.toContain("s3:");
    }
  });

  it("tells the API how long its links live, and Archive the bucket", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ VIDEO_LINK_SECONDS: "600", VIDEO_BUCKET_NAME: { Ref: bucketId } }) },
    });
  });

  it("refuses a link lifetime past S3's 7 days, and an expiry before the move to a colder class", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new Stack(app, "Bad");
    expect(() => new KlingVideoPipeline(stack, "Long", { videoArchive: { linkSeconds: 604_801 } })).toThrow(/videoArchive.linkSeconds/);
    expect(
      () => new KlingVideoPipeline(stack, "Early", { videoArchive: { transition: { storageClass: "GLACIER", afterDays: 30 }, expireAfterDays: 10 } }),
    ).toThrow(/expireAfterDays must come after/);
  });

  it("uses a bucket you pass in, creating none", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new Stack(app, "Own");
    const videoBucket = Bucket.fromBucketName(stack, "Mine", "my-videos");
    new KlingVideoPipeline(stack, "Pipeline", { videoBucket });
    const own = Template.fromStack(stack);
    own.resourceCountIs("AWS::S3::Bucket", 0);
    own.hasResourceProperties("AWS::Lambda::Function", { Environment: { Variables: Match.objectLike({ VIDEO_BUCKET_NAME: "my-videos" }) } });
  });
});
