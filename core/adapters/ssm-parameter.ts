/** Reads a SecureString parameter from SSM Parameter Store (decrypted with its KMS key). */
import { GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";

export async function readSecureParameter(client: SSMClient, name: string): Promise<string> {
  const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = out.Parameter?.Value;
  if (!value) throw new Error(`SSM parameter ${name} has no value`);
  return value;
}
