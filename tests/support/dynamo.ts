/** A real DynamoDB emulator (dynalite, in memory) on a random loopback port, with Airlock's table. */

import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

const require = createRequire(import.meta.url);

export async function startDynamo(): Promise<{
  client: DynamoDBDocumentClient;
  table: string;
  stop(): Promise<void>;
}> {
  const dynalite = require("dynalite") as (options: object) => Server;
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  const raw = new DynamoDBClient({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const table = "airlock-test";
  const attrs = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"];
  await raw.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: attrs.map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        ["byOwner", "gsi1pk", "gsi1sk"],
        ["byStatus", "gsi2pk", "gsi2sk"],
      ].map(([IndexName, pk, sk]) => ({
        IndexName,
        KeySchema: [
          { AttributeName: pk, KeyType: "HASH" as const },
          { AttributeName: sk, KeyType: "RANGE" as const },
        ],
        Projection: { ProjectionType: "ALL" as const },
      })),
    }),
  );
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return { client, table, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
