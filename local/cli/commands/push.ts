/** `airlock push`: the command around the bulk uploader in `local/push/` (modes, resume, report, summary). */
import { stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { formatSize } from "../../../core/domain/format.ts";
import { ApiTarget } from "../../push/api-target.ts";
import { DropTarget } from "../../push/drop-target.ts";
import { Journal, newRunId, type RunRow } from "../../push/journal.ts";
import { formatReport, formatRuns, type ReportFormat, runReport } from "../../push/report.ts";
import { RefusedError } from "../../push/retry.ts";
import { LookupError, type PushOptions, type PushSummary, runPush } from "../../push/run.ts";
import type { PushTarget } from "../../push/target.ts";
import { AirlockApi, ApiError, clientCredentials, fixedToken, type TokenSource } from "../api-client.ts";
import { localRecords, localS3 } from "../clients.ts";
import { CliError, UsageError } from "../errors.ts";
import { findHome, loadState } from "../home.ts";
import { print, table } from "../output.ts";
import { progressSink } from "../progress.ts";
import type { Common } from "./files.ts";

export interface PushFlags extends Common {
  system?: string;
  prefix?: string;
  token?: string;
  clientId?: string;
  clientSecret?: string;
  tokenUrl?: string;
  scope?: string;
  api?: string;
  include?: string[];
  exclude?: string[];
  hashConcurrency: number;
  uploadConcurrency: number;
  retries: number;
  retryDelay: number;
  dedup: boolean;
  wait?: boolean;
  timeout?: number;
  resume?: string;
  report?: string;
  format?: ReportFormat;
  output?: string;
  runs?: boolean;
  journal?: string;
  partSize: number;
}

/** Which flags the user typed (the others are defaults, which a resumed run takes from the journal). */
export type Explicit = (name: keyof PushFlags) => boolean;

/** Settings kept in the journal so that `--resume` repeats the run as it was started (never a secret). */
interface Settings {
  mode: "drop" | "api";
  system?: string;
  prefix?: string;
  api?: string;
  include: string[];
  exclude: string[];
  hashConcurrency: number;
  uploadConcurrency: number;
  retries: number;
  retryDelay: number;
  dedup: boolean;
  partSize: number;
}

function journalFile(flags: PushFlags): string {
  return resolve(flags.journal ?? join(findHome().dir, "push.sqlite"));
}

/** The `sub` claim of a JWT, for messages only (the gateway verifies tokens; the CLI does not). */
function subjectOf(jwt: string): string {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      sub?: unknown;
    };
    return typeof payload.sub === "string" ? payload.sub : "unknown";
  } catch {
    return "unknown";
  }
}

function tokenSource(flags: PushFlags): TokenSource | undefined {
  if (flags.token !== undefined) return fixedToken(flags.token);
  if (flags.clientId === undefined) return undefined;
  const secret = flags.clientSecret ?? process.env.AIRLOCK_CLIENT_SECRET;
  if (!secret)
    throw new UsageError("--client-id needs a secret: set AIRLOCK_CLIENT_SECRET (or --client-secret)");
  if (!flags.tokenUrl)
    throw new UsageError("--client-id needs --token-url (the identity provider's token endpoint)");
  return clientCredentials({
    tokenUrl: flags.tokenUrl,
    clientId: flags.clientId,
    clientSecret: secret,
    scope: flags.scope,
  });
}

async function buildTarget(settings: Settings, flags: PushFlags, runId: string): Promise<PushTarget> {
  if (settings.mode === "api") {
    const tokens = tokenSource(flags);
    if (!tokens)
      throw new UsageError(
        "this run goes through the API: give --token or --client-id again (tokens are never kept in the journal)",
      );
    const baseUrl = settings.api ?? (await loadState()).api.url;
    const api = new AirlockApi(baseUrl, tokens);
    let owner: string;
    try {
      owner = subjectOf(await tokens.token());
    } catch (error) {
      if (error instanceof ApiError) throw new CliError(error.message);
      throw error;
    }
    return checked(new ApiTarget(api, owner));
  }
  const state = await loadState();
  const s3 = localS3(state, { maxAttempts: 3 });
  return checked(
    new DropTarget({
      s3,
      records: localRecords(state),
      bucket: state.ingestBucket,
      system: settings.system ?? "cli",
      prefix: settings.prefix,
      runId,
      partSize: settings.partSize * 1024 * 1024,
    }),
  );
}

/** Fails before a run is created when the destination is unreachable or refuses the credentials. */
async function checked(target: PushTarget): Promise<PushTarget> {
  try {
    await target.check();
  } catch (error) {
    if (error instanceof ApiError || error instanceof RefusedError) throw new CliError(error.message);
    throw error;
  }
  return target;
}

function settingsFrom(flags: PushFlags): Settings {
  const api = flags.token !== undefined || flags.clientId !== undefined;
  if (api && (flags.system !== undefined || flags.prefix !== undefined))
    throw new UsageError(
      "--system and --prefix are for direct drops; with --token or --client-id files go through the API",
    );
  if (!api && flags.api !== undefined) throw new UsageError("--api needs --token or --client-id");
  return {
    mode: api ? "api" : "drop",
    system: api ? undefined : (flags.system ?? "cli"),
    prefix: flags.prefix,
    api: flags.api,
    include: flags.include ?? [],
    exclude: flags.exclude ?? [],
    hashConcurrency: flags.hashConcurrency,
    uploadConcurrency: flags.uploadConcurrency,
    retries: flags.retries,
    retryDelay: flags.retryDelay,
    dedup: flags.dedup,
    partSize: flags.partSize,
  };
}

/** A resumed run keeps its settings, except tuning flags typed again now. */
function resumedSettings(run: RunRow, flags: PushFlags, explicit: Explicit): Settings {
  const stored = run.settings as unknown as Settings;
  const tuning = ["hashConcurrency", "uploadConcurrency", "retries", "retryDelay", "partSize"] as const;
  const settings: Settings = { ...stored };
  for (const name of tuning) if (explicit(name)) settings[name] = flags[name];
  for (const name of ["system", "prefix", "include", "exclude"] as const)
    if (explicit(name))
      throw new UsageError(`--${name} cannot change when a run is resumed; start a new run instead`);
  return settings;
}

function humanSummary(s: PushSummary): string {
  const n = (v: number) => v.toLocaleString("en");
  const rate = s.seconds > 0 ? `, ${formatSize(s.bytesPerSecond)}/s` : "";
  const lines = [
    `${s.state === "interrupted" ? "Interrupted" : "Pushed"} ${s.root} to ${s.target} in ${s.seconds} s (run ${s.runId}).`,
    `  ${n(s.uploaded)} uploaded (${formatSize(s.bytesUploaded)}${rate}${s.recovered ? `; ${n(s.recovered)} had landed before the interruption` : ""}), ` +
      `${n(s.duplicate)} duplicate, ${n(s.refused)} refused, ${n(s.failed)} failed` +
      `${s.skipped ? `, ${n(s.skipped)} skipped` : ""}${s.earlier ? `, ${n(s.earlier)} done earlier in this run` : ""}.`,
  ];
  const verdicts = Object.entries(s.verdicts);
  if (verdicts.length > 0 || s.pendingVerdicts > 0)
    lines.push(
      `  Verdicts: ${verdicts.map(([k, v]) => `${n(v)} ${k}`).join(", ") || "none"}${s.pendingVerdicts ? `; ${n(s.pendingVerdicts)} not final yet` : ""}.`,
    );
  if (s.problems.length > 0) {
    lines.push(
      "",
      table(
        ["OUTCOME", "PATH", "REASON"],
        s.problems.map((p) => [p.outcome, p.path, p.reason ?? ""]),
      ),
    );
  }
  lines.push(
    "",
    s.state === "interrupted"
      ? `Resume with: airlock push --resume ${s.runId}`
      : `Every file's outcome: airlock push --report ${s.runId}`,
  );
  return lines.join("\n");
}

export function pushExitCode(s: PushSummary, wait: boolean): number {
  if (s.state === "interrupted") return 130;
  if (s.failed > 0 || s.refused > 0) return 1;
  if (wait && (s.pendingVerdicts > 0 || Object.keys(s.verdicts).some((v) => v !== "VERIFIED"))) return 1;
  return 0;
}

export async function push(dir: string | undefined, flags: PushFlags, explicit: Explicit): Promise<number> {
  const modes = [
    dir !== undefined,
    flags.resume !== undefined,
    flags.report !== undefined,
    flags.runs === true,
  ];
  if (modes.filter(Boolean).length !== 1)
    throw new UsageError("give exactly one of: a directory, --resume <run>, --report <run>, --runs");
  const file = journalFile(flags);

  if (flags.runs || flags.report !== undefined) {
    const journal = new Journal(file);
    try {
      if (flags.runs) {
        const runs = journal.runs(50);
        print(runs, flags.json ?? false, () => formatRuns(runs));
        return 0;
      }
      const run = journal.run(flags.report as string);
      if (!run) throw new CliError(`No push run ${flags.report} in the journal ${file}`);
      const format: ReportFormat =
        flags.format ??
        (flags.json
          ? "json"
          : flags.output?.toLowerCase().endsWith(".csv")
            ? "csv"
            : flags.output?.toLowerCase().endsWith(".json")
              ? "json"
              : "text");
      const text = formatReport(runReport(journal, run), format);
      if (flags.output) {
        await writeFile(flags.output, text);
        process.stderr.write(`Wrote the report of run ${run.runId} to ${flags.output} (${format}).\n`);
      } else process.stdout.write(text);
      return 0;
    } finally {
      journal.close();
    }
  }

  const journal = new Journal(file);
  try {
    let run: RunRow;
    let settings: Settings;
    if (flags.resume !== undefined) {
      const found = journal.run(flags.resume);
      if (!found) throw new CliError(`No push run ${flags.resume} in the journal ${file}`);
      settings = resumedSettings(found, flags, explicit);
      run = found;
    } else {
      const root = resolve(dir as string);
      const info = await stat(root).catch(() => undefined);
      if (!info?.isDirectory()) throw new CliError(`Not a directory: ${dir}`);
      settings = settingsFrom(flags);
      const runId = newRunId();
      const target = await buildTarget(settings, flags, runId);
      run = journal.createRun({
        runId,
        startedAt: new Date().toISOString(),
        root,
        mode: settings.mode,
        target: target.description,
        settings: settings as unknown as Record<string, unknown>,
      });
      return await execute(run, settings, target, journal, flags);
    }
    const info = await stat(run.root).catch(() => undefined);
    if (!info?.isDirectory()) throw new CliError(`The run's directory is gone: ${run.root}`);
    const target = await buildTarget(settings, flags, run.runId);
    journal.resumeRun(run.runId);
    return await execute(journal.run(run.runId) ?? run, settings, target, journal, flags);
  } finally {
    journal.close();
  }
}

async function execute(
  run: RunRow,
  settings: Settings,
  target: PushTarget,
  journal: Journal,
  flags: PushFlags,
): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write("\nStopping: finishing the journal (press Ctrl-C again to quit at once)…\n");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.stderr.write(
    `Run ${run.runId}: ${run.sessions > 1 ? "resuming" : "pushing"} ${run.root} to ${target.description}\n`,
  );
  const options: PushOptions = {
    root: run.root,
    include: settings.include,
    exclude: settings.exclude,
    hashConcurrency: settings.hashConcurrency,
    uploadConcurrency: settings.uploadConcurrency,
    retries: settings.retries,
    retryDelayMs: settings.retryDelay,
    dedup: settings.dedup,
    wait: flags.wait ?? false,
    waitTimeoutSeconds: flags.timeout,
  };
  try {
    const summary = await runPush(run, options, {
      journal,
      target,
      progress: progressSink(flags.progress !== false && !flags.json),
      signal: controller.signal,
    });
    print(summary, flags.json ?? false, () => humanSummary(summary));
    return pushExitCode(summary, options.wait);
  } catch (error) {
    if (error instanceof LookupError) throw new CliError(error.message);
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
