/**
 * The `airlock` command line as a newcomer meets it: help for every command with examples, a version, and
 * for every mistake a sentence on stderr with exit code 2 (usage) or 1 (failure) — never a stack trace.
 * These run without a stack (except where one is faked), as separate processes.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { airlock, STACK_LINE } from "../support/cli.ts";

const COMMANDS = ["drop", "status", "list", "notifications", "token", "rescan", "push"];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-cli-usage-"));
  await mkdir(join(dir, "tree"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("CLI: help and version", () => {
  it("prints help listing every command, with exit code 0", async () => {
    const help = await airlock(["--help"]);
    expect(help.code).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    expect(help.stdout).toMatch(/Exit codes: 0 done, 1 .*, 2 usage/);
  });

  it.each(COMMANDS)("prints `%s --help` with a description and examples", async (command) => {
    const help = await airlock([command, "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`Usage: airlock ${command}`));
    expect(help.stdout).toMatch(/Examples:\n {2}\$ airlock /);
    expect((await airlock(["help", command])).stdout).toBe(help.stdout);
  });

  it("prints the package version", async () => {
    const pkg = JSON.parse(await readFile("package.json", "utf8")) as { version: string };
    const version = await airlock(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it("prints usage on stderr and exits 2 when given nothing", async () => {
    const none = await airlock([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage: airlock/);
  });
});

describe("CLI: usage mistakes", () => {
  const tree = () => join(dir, "tree");
  it.each([
    { args: ["token", "--sub"], says: /option '--sub <id>' argument missing/ },
    { args: ["status", "x", "--timeout", "-5"], says: /'--timeout <seconds>' argument '-5' is invalid/ },
    { args: ["status", "x", "--timeout", "soon"], says: /argument 'soon' is invalid/ },
    { args: ["status", "a", "b"], says: /too many arguments for 'status'/ },
    { args: ["drop"], says: /missing required argument 'file'/ },
    { args: ["nope"], says: /unknown command 'nope'/ },
    { args: ["stauts", "x"], says: /Did you mean status\?/ },
    { args: ["list", "--bogus"], says: /unknown option '--bogus'/ },
    { args: ["list", "--status", "SHINY"], says: /Unknown status/ },
    { args: ["list", "--limit", "0"], says: /'--limit <n>' argument '0' is invalid/ },
    { args: ["list", "--system", "a", "--owner", "b"], says: /--system or --owner, not both/ },
    {
      args: ["drop", "f", "--system", "no/slash"],
      says: /'--system <name>' argument 'no\/slash' is invalid/,
    },
    { args: ["token", "--ttl", "1.5"], says: /'--ttl <seconds>' argument '1.5' is invalid/ },
    { args: ["rescan", "id", "--table", "t"], says: /needs both --table and --topic/ },
    { args: ["push"], says: /exactly one of: a directory, --resume/ },
    { args: ["push", "d", "--resume", "latest"], says: /exactly one of/ },
    { args: ["push", "d", "--upload-concurrency", "0"], says: /'--upload-concurrency <n>' argument '0'/ },
    { args: ["push", "d", "--format", "xml", "--report", "x"], says: /Allowed choices are text, json, csv/ },
  ])("`airlock $args` exits 2 with a sentence", async ({ args, says }) => {
    const out = await airlock(args, { home: join(dir, "no-stack") });
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toMatch(/^airlock: /);
    expect(out.stderr).toMatch(says);
    expect(out.stderr).not.toMatch(STACK_LINE);
  });

  it("refuses push options that exclude each other, before touching anything", async () => {
    const both = await airlock(["push", tree(), "--token", "t", "--system", "x"], {
      home: join(dir, "no-stack"),
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--system and --prefix are for direct drops/);
    const secretless = await airlock(
      ["push", tree(), "--client-id", "bot", "--token-url", "http://127.0.0.1:9/t"],
      {
        home: join(dir, "no-stack"),
      },
    );
    expect(secretless.code).toBe(2);
    expect(secretless.stderr).toMatch(/AIRLOCK_CLIENT_SECRET/);
  });
});

describe("CLI: failures", () => {
  it("says that no stack is running, with exit 1", async () => {
    for (const args of [
      ["list"],
      ["status", "x"],
      ["drop", "package.json"],
      ["token"],
      ["push", join(dir, "tree")],
    ]) {
      const out = await airlock(args, { home: join(dir, "no-stack") });
      expect(out.code, `${args.join(" ")}: ${out.stderr}`).toBe(1);
      expect(out.stderr).toMatch(/No local Airlock stack is running/);
      expect(out.stderr).not.toMatch(STACK_LINE);
    }
  });

  it("says so when local.json is not a state file", async () => {
    const home = join(dir, "broken");
    await mkdir(home, { recursive: true });
    await writeFile(join(home, "local.json"), "{ not json");
    const out = await airlock(["list"], { home });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/is not a local stack state file/);
  });

  it("says the stack does not answer when the one in local.json has gone", async () => {
    const port = await new Promise<number>((r) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => r(port));
      });
    });
    const home = join(dir, "gone");
    await mkdir(home, { recursive: true });
    const url = `http://127.0.0.1:${port}`;
    await writeFile(
      join(home, "local.json"),
      JSON.stringify({
        region: "us-east-1",
        credentials: { accessKeyId: "x", secretAccessKey: "y" },
        endpoints: { s3: url, dynamodb: url, sqs: url, sns: url },
        ingestBucket: "airlock-ingest",
        tableName: "airlock-files",
        api: { url, issuer: url, audience: "airlock", privateJwk: {} },
      }),
    );
    for (const args of [["list"], ["status", "someid"]]) {
      const out = await airlock(args, { home });
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/the local stack does not answer \(ECONNREFUSED\)/);
      expect(out.stderr).not.toMatch(STACK_LINE);
    }
  });

  it("says which file it cannot read", async () => {
    const out = await airlock(["drop", join(dir, "missing.pdf")], { home: join(dir, "no-stack") });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/Not a readable file: .*missing\.pdf/);
  });
});
