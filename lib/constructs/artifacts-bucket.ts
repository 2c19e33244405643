import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResources } from '../nag';

/** Properties of {@link ArtifactsBucket}. */
export interface ArtifactsBucketProps {
  /** RETAIN in production. A dev stack's buckets must be emptied before the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Artifacts live this long: downloads are handed to their logic task within minutes and links
 * last at most 7 days, so a month leaves room for reruns and investigation.
 */
export const ARTIFACT_EXPIRY = Duration.days(30);

/**
 * The artifact store: files the download workers fetch and the results logic tasks produce,
 * read back by key or through presigned GET links. Private, TLS-only, SSE-S3 (the store asks
 * for AES256 on every put), expiring by lifecycle, with server access logs.
 */
export class ArtifactsBucket extends Construct {
  public readonly bucket: s3.Bucket;
  /** Where the bucket's server access logs go. */
  public readonly accessLogs: s3.Bucket;

  public constructor(scope: Construct, id: string, props: ArtifactsBucketProps) {
    super(scope, id);
    // Let S3 log delivery in through a bucket policy rather than the deprecated LogDeliveryWrite
    // ACL (which forces ACLs back on). cdk.json does not set this flag; scoping it here keeps
    // the choice next to the buckets it concerns.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.accessLogs,
      'AwsSolutions-S1',
      'This bucket receives the artifact bucket’s server access logs; logging it to itself would ' +
        'loop and logging it elsewhere only moves the question to another bucket.',
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        { expiration: ARTIFACT_EXPIRY, abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy,
    });
  }

  /**
   * Allows exactly what S3ArtifactStore does: PutObject and GetObject on the bucket's objects
   * (GetObject also backs the presigned links the function signs). No list, no delete.
   */
  public grantPutAndGet(grantee: iam.IGrantable & Construct): void {
    const objects = this.bucket.arnForObjects('*');
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [objects] }),
    );
    acknowledgeWildcardResources(
      grantee,
      [objects],
      'Artifact keys are made at runtime (one per task); the wildcard covers the objects of this ' +
        'one bucket, for put and get only.',
    );
  }
}
