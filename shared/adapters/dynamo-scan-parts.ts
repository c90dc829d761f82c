/**
 * The halves of a scan waiting for each other (see ScanPartStore), as items next to the file record:
 * `pk = FILE#<fileId>`, `sk = SCANPART#<part>`, tagged with the object version's sequencer.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { EngineResult, ObjectVersion } from "../domain/types.ts";
import type { ScanPart, ScanPartStore } from "../ports.ts";

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
