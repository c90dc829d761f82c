/**
 * The `airlock` command: its grammar (commander), its help with examples, and one place that turns every way a
 * command can end into a sentence and an exit code — 0 done, 1 failed, 2 usage — never a stack trace.
 */
import { Command, CommanderError, Option } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { CliError, EXIT, errorCode, UsageError } from "./errors.ts";
import {
  collect,
  fileStatus,
  nonEmpty,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  systemName,
  typeId,
} from "./parse.ts";

const NAME = "airlock";

const MAIN_HELP = `
Where it looks for the local stack (started by \`npm start\`):
  $AIRLOCK_HOME/local.json, else .airlock/local.json in this folder or any parent, else in the checkout the
  CLI belongs to. The push journal (push.sqlite) lives in the same folder.

Exit codes: 0 done, 1 the work failed (no stack, unknown file, refused upload, timeout), 2 usage mistake.

Examples:
  $ airlock drop ./invoice.pdf --system billing --wait
  $ airlock push ./outbox --system billing --wait
  $ airlock list --status REJECTED
  $ airlock <command> --help`;

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}`;
}

const jsonOption = () => new Option("--json", "print JSON instead of text");
const progressOption = () =>
  new Option("--no-progress", "no progress line (it is only drawn on a terminal anyway)");
const timeoutOption = () =>
  new Option(
    "--timeout <seconds>",
    "give up waiting after this long (default: 60 s + 1 s per 10 MiB)",
  ).argParser(positiveNumber);

/** Commands load their code on first use, so `--help` and usage errors stay instant. */
const commands = () => import("./commands/files.ts");

export function buildProgram(result: { code: number }): Command {
  const program = new Command(NAME)
    .description("Drop files into a local Airlock stack, watch their verdicts, and push whole folders.")
    .version(pkg.version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .addHelpText("after", MAIN_HELP)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(`${NAME}: ${text.replace(/^error: /, "")}`),
    });

  const command = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .helpOption("-h, --help", "show help")
      .showHelpAfterError(`(see: ${NAME} ${name.split(" ")[0]} --help)`);

  command("drop <file>", "Upload one file into the ingest bucket as a system would (drops/<system>/<name>).")
    .option(
      "--system <name>",
      "the dropping system: the key is drops/<system>/<file name>",
      systemName,
      "cli",
    )
    .option("--key <key>", "the exact object key instead (outside drops/ the file has no owner)", nonEmpty)
    .option("--content-type <type>", "declared Content-Type (default: from the extension)", nonEmpty)
    .option("--wait", "wait for the verdict and print the file record")
    .addOption(timeoutOption())
    .addOption(jsonOption())
    .addOption(progressOption())
    .addHelpText(
      "after",
      examples(
        "airlock drop ./invoice.pdf --system billing",
        "airlock drop ./scan.png --wait --json",
        "airlock drop ./big.zip --key drops/archive/2026/big.zip",
      ),
    )
    .action(async (file: string, options) => {
      result.code = await (await commands()).drop(file, options);
    });

  command("status <fileId>", "Show a file's record: status, stage results, facts and reasons.")
    .option("--wait", "wait until the verdict is final")
    .addOption(timeoutOption())
    .addOption(jsonOption())
    .addOption(progressOption())
    .addHelpText("after", examples("airlock status 4f3k9q… ", "airlock status 4f3k9q… --wait --json"))
    .action(async (fileId: string, options) => {
      result.code = await (await commands()).status(fileId, options);
    });

  command("list", "List files, newest first: status, size, type, date and name.")
    .option(
      "--status <status>",
      "only this status (PENDING, VERIFIED, REJECTED, INFECTED, FAILED, DELETED)",
      fileStatus,
    )
    .option("--type <type>", "only this detected type (pdf, png, docx, …)", typeId)
    .option("--system <name>", "only files dropped by this system", systemName)
    .option("--owner <sub>", "only files uploaded through the API by this user", nonEmpty)
    .option("--limit <n>", "show at most this many", positiveInt, 50)
    .addOption(jsonOption())
    .addHelpText(
      "after",
      examples(
        "airlock list",
        "airlock list --status REJECTED --type pdf",
        "airlock list --system billing --json",
      ),
    )
    .action(async (options) => {
      if (options.system && options.owner) throw new UsageError("give --system or --owner, not both");
      result.code = await (await commands()).list(options);
    });

  command("notifications", "Show the verdict notifications the local stack sent (subject and body).")
    .option("--limit <n>", "the last n notifications", positiveInt, 20)
    .addOption(jsonOption())
    .addHelpText("after", examples("airlock notifications", "airlock notifications --limit 1 --json"))
    .action(async (options) => {
      result.code = await (await commands()).notifications(options);
    });

  command("token", "Mint a JWT for the local HTTP API from the local issuer (local stack only).")
    .option("--sub <id>", "the user the token is for", nonEmpty, "dev-user")
    .option("--ttl <seconds>", "lifetime", positiveInt, 3600)
    .addOption(jsonOption())
    .addHelpText(
      "after",
      examples(
        "airlock token --sub alice --ttl 600",
        "TOKEN=$(airlock token --sub alice)",
        'curl -s "$(jq -r .api.url .airlock/local.json)/files" -H "authorization: Bearer $TOKEN"',
      ),
    )
    .action(async (options) => {
      result.code = await (await commands()).token(options);
    });

  command("rescan <fileId>", "Judge a held file (FAILED, REJECTED, INFECTED) again with today's engines.")
    .option("--wait", "wait for the new verdict")
    .addOption(timeoutOption())
    .option(
      "--table <name>",
      "against AWS: the stack's tableName output (default credentials and region)",
      nonEmpty,
    )
    .option("--topic <arn>", "against AWS: the stack's fanoutTopicArn output", nonEmpty)
    .option("--actor <name>", "who asks, for the audit trail (default operator:$USER)", nonEmpty)
    .addOption(jsonOption())
    .addOption(progressOption())
    .addHelpText(
      "after",
      examples(
        "airlock rescan 4f3k9q… --wait",
        'airlock rescan 4f3k9q… --table "$(pulumi stack output tableName)" --topic "$(pulumi stack output fanoutTopicArn)"',
      ),
    )
    .action(async (fileId: string, options) => {
      if ((options.table === undefined) !== (options.topic === undefined))
        throw new UsageError(
          "rescan against AWS needs both --table and --topic (the stack outputs tableName and fanoutTopicArn)",
        );
      result.code = await (await commands()).rescanCommand(fileId, options);
    });

  command(
    "reconcile",
    "Compare the buckets with the records: re-drive unrecorded objects, finish unpromoted or unnotified files, withdraw unjudged clean objects.",
  )
    .option("--dry-run", "only report, repair nothing")
    .addOption(
      new Option("--grace <seconds>", "leave alone anything younger than this (the pipeline may be on it)")
        .argParser(nonNegativeInt)
        .default(60),
    )
    .addOption(jsonOption())
    .addHelpText("after", examples("airlock reconcile", "airlock reconcile --dry-run --json"))
    .action(async (options) => {
      result.code = await (await import("./commands/reconcile.ts")).reconcileCommand(options);
    });

  const push = command(
    "push [dir]",
    "Upload a whole folder: hashed, deduplicated, concurrent, retried, journalled and resumable.",
  )
    .option(
      "--system <name>",
      "direct drops to drops/<system>/<path> (the default mode; system 'cli')",
      systemName,
    )
    .option("--prefix <folder>", "a folder under drops/<system>/ to put the tree in", nonEmpty)
    .option(
      "--token <jwt>",
      "upload through the HTTP API with this bearer token instead of dropping",
      nonEmpty,
    )
    .option(
      "--client-id <id>",
      "upload through the API with OAuth client credentials (secret in AIRLOCK_CLIENT_SECRET)",
      nonEmpty,
    )
    .addOption(
      new Option("--client-secret <secret>", "the client secret (prefer AIRLOCK_CLIENT_SECRET)").argParser(
        nonEmpty,
      ),
    )
    .option("--token-url <url>", "the identity provider's token endpoint, for --client-id", nonEmpty)
    .option("--scope <scope>", "OAuth scope to ask for, for --client-id", nonEmpty)
    .option("--api <url>", "the HTTP API's base URL (default: the local stack's)", nonEmpty)
    .option("--include <glob>", "only files matching (repeatable; '*.pdf' matches at any depth)", collect)
    .option("--exclude <glob>", "leave out files and folders matching (repeatable)", collect)
    .option("--hash-concurrency <n>", "files hashed at once (disk)", positiveInt, 4)
    .option("--upload-concurrency <n>", "files uploaded at once (network)", positiveInt, 8)
    .option("--part-size <MiB>", "multipart part size for direct drops", positiveInt, 8)
    .option(
      "--retries <n>",
      "retries of a transient failure per file (backoff doubles each time)",
      nonNegativeInt,
      4,
    )
    .option("--retry-delay <ms>", "the first backoff delay", positiveInt, 250)
    .option("--no-dedup", "upload even content already VERIFIED for this system or owner")
    .option("--wait", "wait for every upload's verdict and record it in the journal")
    .addOption(
      new Option(
        "--timeout <seconds>",
        "give up waiting for verdicts after this long (default: grows with bytes and files)",
      ).argParser(positiveNumber),
    )
    .option(
      "--resume <run>",
      "continue a stopped run ('latest' for the last one) without re-sending what landed",
      nonEmpty,
    )
    .option("--report <run>", "print a run's journal ('latest' for the last one)", nonEmpty)
    .addOption(new Option("--format <format>", "report format").choices(["text", "json", "csv"]))
    .option(
      "--output <file>",
      "write the report to a file (format from .csv/.json unless --format)",
      nonEmpty,
    )
    .option("--runs", "list the runs in the journal")
    .option("--journal <file>", "the journal database (default: push.sqlite next to local.json)", nonEmpty)
    .addOption(jsonOption())
    .addOption(progressOption())
    .addHelpText(
      "after",
      `
Each file is hashed (SHA-256) first. Content already VERIFIED for the system (or API user), or already sent in
this run, is recorded as a duplicate and not sent. Symbolic links are never followed. Every outcome (uploaded,
duplicate, refused with the reason, failed, and with --wait the verdict) goes to the journal as it happens.
Exit code 1 when any file was refused or failed (or, with --wait, is not VERIFIED); 130 when interrupted.
${examples(
  "airlock push ./outbox --system billing",
  "airlock push ./scans --include '*.pdf' --exclude tmp --wait",
  'airlock push ./outbox --token "$(airlock token --sub alice)"',
  "AIRLOCK_CLIENT_SECRET=… airlock push ./outbox --client-id ingest-bot --token-url https://idp.example/oauth2/token --api https://api.example",
  "airlock push --resume latest",
  "airlock push --report latest --output run.csv",
)}`,
    );
  push.action(async (dir: string | undefined, options) => {
    const { push: run } = await import("./commands/push.ts");
    result.code = await run(dir, options, (name) => push.getOptionValueSource(name) === "cli");
  });

  return program;
}

/** Network errors that mean the stack in local.json is gone. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH"]);

/** Turns any error into its message on stderr and an exit code; stack traces only with AIRLOCK_DEBUG=1. */
export function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version end "successfully"; commander has already printed any message.
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
    return EXIT.usage;
  }
  if (process.env.AIRLOCK_DEBUG) console.error(error);
  if (error instanceof UsageError) {
    process.stderr.write(`${NAME}: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`${NAME}: ${error.message}\n`);
    return EXIT.failure;
  }
  const code = errorCode(error);
  if (code && UNREACHABLE.has(code)) {
    process.stderr.write(
      `${NAME}: the local stack does not answer (${code}); is \`npm start\` still running? Start it again if not.\n`,
    );
    return EXIT.failure;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `${NAME}: ${message || "unexpected error"}${process.env.AIRLOCK_DEBUG ? "" : " (set AIRLOCK_DEBUG=1 for details)"}\n`,
  );
  return EXIT.failure;
}

export async function main(argv: string[]): Promise<number> {
  const result = { code: EXIT.ok as number };
  const program = buildProgram(result);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return result.code;
  } catch (error) {
    return report(error);
  }
}
