/**
 * System drops: one managed policy per configured system (`dropSystems`), to attach to that system's role or
 * user. It allows PutObject under the system's own `drops/<system>/` prefix of the ingest bucket, nothing else.
 * SSE-KMS needs the data key for a PutObject and, for a multipart upload (the AWS CLI goes multipart above
 * 8 MB), also kms:Decrypt: S3 decrypts the data key to encrypt each part.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dropPrefix } from "../core/domain/keys.ts";
import type { AirlockConfig } from "./config.ts";
import { policyDocument } from "./iam.ts";
import type { Storage } from "./storage.ts";

export interface DropsArgs {
  config: AirlockConfig;
  storage: Pick<Storage, "ingestBucket" | "key">;
  region: pulumi.Input<string>;
}

export class Drops extends pulumi.ComponentResource {
  /** Each system's policy ARN, by system name. */
  readonly policyArns: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: DropsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:drops:Drops", name, {}, opts);
    const { storage } = args;
    for (const system of args.config.dropSystems) {
      const policy = new aws.iam.Policy(
        `${name}-drop-${system}`,
        {
          description: `Airlock: ${system} may drop files into quarantine`,
          policy: policyDocument([
            {
              Sid: "DropFiles",
              Effect: "Allow",
              Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
              Resource: [pulumi.interpolate`${storage.ingestBucket.arn}/${dropPrefix(system)}*`],
            },
            {
              Sid: "EncryptDrops",
              Effect: "Allow",
              Action: ["kms:GenerateDataKey", "kms:Decrypt"],
              Resource: [storage.key.arn],
              Condition: {
                StringEquals: { "kms:ViaService": pulumi.interpolate`s3.${args.region}.amazonaws.com` },
              },
            },
          ]),
        },
        // The policies were the stack's own resources before: the alias keeps them in place.
        { parent: this, aliases: [{ parent: pulumi.rootStackResource }] },
      );
      this.policyArns[system] = policy.arn;
    }
    this.registerOutputs({ policyArns: this.policyArns });
  }
}
