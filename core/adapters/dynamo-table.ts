/**
 * The file table's shape, in one place: the Pulumi program (infra/storage.ts), the local stack and the tests
 * create it from this, and the record store queries it. Single-table design: hash `pk`, range `sk`, and two
 * global secondary indexes.
 *
 * The indexes project only what their queries filter on, not the record: each write of a record is written
 * again to every index whose projected attributes it changes (with `ALL`, every write, twice over, at the full
 * item size). A listing reads the keys from the index and the records from the table (BatchGetItem).
 * - `byOwner` (the API's "files of an owner, newest first"): keys only. Its key is set once, at registration.
 * - `byStatus` (the sweeper and the reconciler: files by status, since when): keys and `notificationId`, so the
 *   sweeper finds decided files never confirmed as notified without reading every decided record. The key moves
 *   (a delete and a put in the index) on each status change.
 */
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

export interface TableIndex {
  name: string;
  hashKey: string;
  rangeKey: string;
  /** `KEYS_ONLY`, or `INCLUDE` with the non-key attributes listed. */
  projection: { type: "KEYS_ONLY" } | { type: "INCLUDE"; attributes: string[] };
}

export const TABLE_KEYS = { hashKey: "pk", rangeKey: "sk" } as const;

export const INDEX_BY_OWNER = "byOwner";
export const INDEX_BY_STATUS = "byStatus";

export const TABLE_INDEXES: readonly TableIndex[] = [
  { name: INDEX_BY_OWNER, hashKey: "gsi1pk", rangeKey: "gsi1sk", projection: { type: "KEYS_ONLY" } },
  {
    name: INDEX_BY_STATUS,
    hashKey: "gsi2pk",
    rangeKey: "gsi2sk",
    projection: { type: "INCLUDE", attributes: ["notificationId"] },
  },
];

/** Every attribute that is a key of the table or of an index (all strings). */
export const KEY_ATTRIBUTE_NAMES: readonly string[] = [
  TABLE_KEYS.hashKey,
  TABLE_KEYS.rangeKey,
  ...TABLE_INDEXES.flatMap((i) => [i.hashKey, i.rangeKey]),
];

/** The CreateTable request for the file table (on-demand), as the local stack and the tests create it. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: KEY_ATTRIBUTE_NAMES.map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.hashKey, KeyType: "HASH" },
      { AttributeName: TABLE_KEYS.rangeKey, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.hashKey, KeyType: "HASH" },
        { AttributeName: index.rangeKey, KeyType: "RANGE" },
      ],
      Projection:
        index.projection.type === "INCLUDE"
          ? { ProjectionType: "INCLUDE", NonKeyAttributes: index.projection.attributes }
          : { ProjectionType: "KEYS_ONLY" },
    })),
  };
}
