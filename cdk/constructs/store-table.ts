/**
 * The store's DynamoDB table, built field by field from STORE_TABLE_SCHEMA
 * (lib/store/dynamodb-table.ts), the constant the store and its tests use:
 * on-demand, stream with new and old images, TTL, the sparse byNode index.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { STORE_TABLE_SCHEMA } from '../../lib/store/dynamodb-table.js';

export interface StoreTableProps {
  /**
   * Refuse DeleteTable (and keep the table when the stack is deleted).
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Point-in-time recovery (35 days of continuous backups).
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
}

const s = STORE_TABLE_SCHEMA;

function attribute(k: { name: string; type: string }): dynamodb.Attribute {
  return { name: k.name, type: k.type as dynamodb.AttributeType };
}

export class StoreTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StoreTableProps = {}) {
    super(scope, id);
    const protect = props.deletionProtection ?? true;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: attribute(s.partitionKey),
      sortKey: attribute(s.sortKey),
      billingMode: s.billingMode as dynamodb.BillingMode,
      stream: s.stream as dynamodb.StreamViewType,
      timeToLiveAttribute: s.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      deletionProtection: protect,
      removalPolicy: protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const g of s.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: g.indexName,
        partitionKey: attribute(g.partitionKey),
        sortKey: attribute(g.sortKey),
        projectionType: g.projection as dynamodb.ProjectionType,
      });
    }
  }
}
