/**
 * The halves of a scan waiting for each other (see ScanPartStore), as items next to the file record:
 * `pk = FILE#<fileId>`, `sk = SCANPART#<part>`, tagged with the object version's sequencer.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { EngineResult, ObjectVersion } from "../domain/types.ts";
import type { ScanCache, ScanPart, ScanPartStore } from "../ports/index.ts";

export class DynamoScanPartStore implements ScanPartStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(fileId: string, version: ObjectVersion, part: ScanPart, results: EngineResult[]): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `FILE#${fileId}`, sk: `SCANPART#${part}`, seq: version.sequencer, results },
      }),
    );
  }

  async get(fileId: string, version: ObjectVersion, part: ScanPart): Promise<EngineResult[] | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `FILE#${fileId}`, sk: `SCANPART#${part}` },
        ConsistentRead: true,
      }),
    );
    if (!out.Item || out.Item.seq !== version.sequencer) return undefined;
    return out.Item.results as EngineResult[];
  }
}

/** How long a cached verdict is kept (the table's TTL attribute removes it afterwards). */
const CACHE_DAYS = 30;

/** The verdict cache (ScanCache) as items `pk = SCANCACHE#<sha256>`, `sk = <engine set>`, expiring by TTL. */
export class DynamoScanCache implements ScanCache {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(sha256: string, engineSet: string): Promise<EngineResult[] | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: `SCANCACHE#${sha256}`, sk: engineSet } }),
    );
    const expired =
      typeof out.Item?.expiresAt === "number" && out.Item.expiresAt * 1000 < this.now().getTime();
    return out.Item && !expired ? (out.Item.results as EngineResult[]) : undefined;
  }

  async put(sha256: string, engineSet: string, results: EngineResult[]): Promise<void> {
    const expiresAt = Math.floor(this.now().getTime() / 1000) + CACHE_DAYS * 24 * 3600;
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `SCANCACHE#${sha256}`, sk: engineSet, results, expiresAt },
      }),
    );
  }
}
