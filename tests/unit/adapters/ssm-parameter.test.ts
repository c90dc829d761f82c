/** The API's cursor secret at cold start: given directly (local stack) or read from its SSM SecureString (AWS). */
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { readSecureParameter } from "../../../core/adapters/ssm-parameter.ts";
import { createClients, cursorSecret } from "../../../core/runtime/clients.ts";
import { ConfigurationError } from "../../../core/runtime/env.ts";

const ssm = mockClient(SSMClient);
const clients = createClients({ region: "us-east-1" }, {});
afterEach(() => ssm.reset());

describe("Function: cursorSecret", () => {
  it("uses the secret given in the environment as it is, without calling SSM", async () => {
    expect(await cursorSecret({ AIRLOCK_CURSOR_SECRET: "s".repeat(40) }, clients)).toBe("s".repeat(40));
    expect(ssm.calls()).toHaveLength(0);
  });

  it("reads the SecureString named by AIRLOCK_CURSOR_SECRET_PARAMETER, decrypted", async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: "from-ssm-".padEnd(48, "x") } });
    expect(
      await cursorSecret({ AIRLOCK_CURSOR_SECRET_PARAMETER: "/airlock/prod/api/cursor-secret" }, clients),
    ).toBe("from-ssm-".padEnd(48, "x"));
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: "/airlock/prod/api/cursor-secret",
      WithDecryption: true,
    });
  });

  it("throws a configuration error naming both variables when neither is set", async () => {
    await expect(cursorSecret({}, clients)).rejects.toThrow(ConfigurationError);
    await expect(cursorSecret({}, clients)).rejects.toThrow(
      /AIRLOCK_CURSOR_SECRET or AIRLOCK_CURSOR_SECRET_PARAMETER/,
    );
  });
});

describe("Function: readSecureParameter", () => {
  it("throws when the parameter has no value", async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: {} });
    await expect(readSecureParameter(new SSMClient({ region: "us-east-1" }), "/x")).rejects.toThrow(
      /has no value/,
    );
  });
});
