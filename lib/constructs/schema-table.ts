import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** One global secondary index of a table schema: string keys and the attributes it includes. */
export interface IndexSchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Non-key attributes to project (INCLUDE); none means KEYS_ONLY. */
  readonly include?: readonly string[];
}

/**
 * A table definition as src/ declares it (src/connections/schema.ts, src/tasks/schema.ts):
 * the same object the local runtime creates its emulator tables from.
 */
export interface TableSchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly ttlAttribute: string;
  readonly indexes?: Readonly<Record<string, IndexSchema>>;
}

/** Properties of {@link SchemaTable}. */
export interface SchemaTableProps {
  readonly schema: TableSchema;
  /** RETAIN in production (a redeploy or stack deletion must never drop data); DESTROY in dev. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A DynamoDB table built from a shared schema, so the cloud table and the emulator table cannot
 * drift: keys, TTL attribute and every GSI come from the schema, all keys are strings.
 */
export class SchemaTable extends Construct {
  /** The DynamoDB table. */
  public readonly table: dynamodb.Table;
  /** The schema the table was built from. */
  public readonly schema: TableSchema;
  /** Whether the table has GSIs (grants then also cover `<tableArn>/index/*`). */
  public readonly hasIndexes: boolean;

  public constructor(scope: Construct, id: string, props: SchemaTableProps) {
    super(scope, id);
    const { schema } = props;
    this.schema = schema;
    this.hasIndexes = Object.keys(schema.indexes ?? {}).length > 0;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: schema.partitionKey, type: dynamodb.AttributeType.STRING },
      ...(schema.sortKey
        ? { sortKey: { name: schema.sortKey, type: dynamodb.AttributeType.STRING } }
        : {}),
      // Load follows users, not a forecast; on-demand needs no capacity planning.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // Items carry their own expiry; DynamoDB deletes them after it (reads filter too, as
      // TTL deletion can lag).
      timeToLiveAttribute: schema.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // A KMS key in this account (aws/dynamodb) whose use shows in CloudTrail, at no key cost.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy,
    });

    for (const [indexName, index] of Object.entries(schema.indexes ?? {})) {
      const include = index.include ?? [];
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        ...(index.sortKey
          ? { sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING } }
          : {}),
        // INCLUDE only what a Query on the index reads, so index writes and storage stay small.
        ...(include.length > 0
          ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...include] }
          : { projectionType: dynamodb.ProjectionType.KEYS_ONLY }),
      });
    }
  }
}
