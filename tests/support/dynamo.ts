/** A real DynamoDB emulator (dynalite, in memory) on a random loopback port, with Airlock's table. */

import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createTableInput } from "../../core/adapters/dynamo-table.ts";

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
  await raw.send(new CreateTableCommand(createTableInput(table)));
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return { client, table, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
