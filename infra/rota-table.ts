import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { QUERY, type TableAction, type TableUse } from '../lib/store/access';
import { ATTR, tableDefinition } from '../lib/store/keys';

export interface RotaTableProps {
  /** @default - AWS-managed encryption */
  readonly encryptionKey?: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
}

type KeySchema = { AttributeName?: string; KeyType?: string }[] | undefined;

const ATTRIBUTE_TYPES = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

/**
 * Rota's one DynamoDB table, its keys and indexes read from the store's declaration
 * (lib/store/keys.ts), and grants by intent: a function gets the union of the table uses
 * its stores declare, nothing more.
 */
export class RotaTable extends Construct {
  readonly table: dynamodb.Table;
  private readonly encryptionKey?: kms.IKey;
  private readonly definition = tableDefinition('rota');

  constructor(scope: Construct, id: string, props: RotaTableProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const partitionKey = this.keyOf(this.definition.KeySchema, 'HASH');
    if (!partitionKey) throw new Error('TaskService: the table definition has no partition key');
    // `Default`: the table keeps the logical ID it had before this construct existed, so
    // a deployed stack updates it in place rather than replacing it.
    this.table = new dynamodb.Table(this, 'Default', {
      partitionKey,
      sortKey: this.keyOf(this.definition.KeySchema, 'RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ATTR.ttl,
      // Rota's events are derived from the change stream, so the run's hot path gains no write.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy: props.removalPolicy,
    });
    this.addIndexes();
  }

  /**
   * The union of the function's table uses: one statement per set of key prefixes that
   * share the same actions (`dynamodb:LeadingKeys` confines each action to the partitions
   * its uses declare), and Query on exactly the indexes they read.
   */
  grantTableUse(grantee: iam.IGrantable, uses: readonly TableUse[]): void {
    for (const { actions, prefixes } of groupByActions(uses)) {
      if (actions.length === 0) continue;
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions,
          resources: [this.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.sort() } },
        }),
      );
    }
    const indexes = [...new Set(uses.flatMap((use) => use.queries ?? []))].sort();
    if (indexes.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [QUERY],
          resources: indexes.map((index) => `${this.table.tableArn}/index/${index}`),
        }),
      );
    }
    if (uses.length > 0 && this.encryptionKey) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [this.encryptionKey.keyArn],
        }),
      );
    }
  }

  /** DescribeTable on the table only: the scheduler reads the due index's item count from it. */
  grantDescribe(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [this.table.tableArn] }),
    );
  }

  private addIndexes(): void {
    for (const index of this.definition.GlobalSecondaryIndexes ?? []) {
      const indexPartitionKey = this.keyOf(index.KeySchema, 'HASH');
      if (!index.IndexName || !indexPartitionKey) throw new Error('TaskService: incomplete index definition');
      // The projection comes from the store's declaration too (the due index includes only
      // the scheduling fields), so code and table can never disagree on what an index holds.
      const projection = index.Projection?.ProjectionType;
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: indexPartitionKey,
        sortKey: this.keyOf(index.KeySchema, 'RANGE'),
        ...(projection === 'INCLUDE'
          ? {
              projectionType: dynamodb.ProjectionType.INCLUDE,
              nonKeyAttributes: index.Projection?.NonKeyAttributes ?? [],
            }
          : projection === 'KEYS_ONLY'
            ? { projectionType: dynamodb.ProjectionType.KEYS_ONLY }
            : { projectionType: dynamodb.ProjectionType.ALL }),
      });
    }
  }

  private keyOf(schema: KeySchema, kind: 'HASH' | 'RANGE'): dynamodb.Attribute | undefined {
    const name = schema?.find((k) => k.KeyType === kind)?.AttributeName;
    return name === undefined ? undefined : this.attribute(name);
  }

  private attribute(name: string): dynamodb.Attribute {
    const type = this.definition.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
    if (type !== 'S' && type !== 'N' && type !== 'B') throw new Error(`TaskService: no type for key ${name}`);
    return { name, type: ATTRIBUTE_TYPES[type] };
  }
}

/** The uses' actions by key prefix, then the prefixes that share the same actions. */
function groupByActions(uses: readonly TableUse[]): { actions: TableAction[]; prefixes: string[] }[] {
  const actionsByPrefix = new Map<string, Set<TableAction>>();
  for (const use of uses) {
    for (const prefix of use.keyPrefixes ?? []) {
      const actions = actionsByPrefix.get(prefix) ?? new Set<TableAction>();
      for (const action of use.actions ?? []) actions.add(action);
      actionsByPrefix.set(prefix, actions);
    }
    if ((use.actions ?? []).length > 0 && (use.keyPrefixes ?? []).length === 0) {
      throw new Error(`TaskService: table use "${use.name}" declares actions but no key prefixes`);
    }
  }
  const prefixesByActions = new Map<string, { actions: TableAction[]; prefixes: string[] }>();
  for (const [prefix, actions] of actionsByPrefix) {
    const sorted = [...actions].sort();
    const key = sorted.join(',');
    const group = prefixesByActions.get(key) ?? { actions: sorted, prefixes: [] };
    group.prefixes.push(`${prefix}*`);
    prefixesByActions.set(key, group);
  }
  return [...prefixesByActions.values()];
}
