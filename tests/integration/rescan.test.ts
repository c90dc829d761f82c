/**
 * Rescanning held files through the local stack: a file that failed because the scan stage kept crashing is
 * judged again once the fault is gone, an infected file stays infected, and files that are not held are refused
 * — both through the pipeline function and through the `airlock rescan` command as a separate process.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RescanRefusedError, rescan } from "../../core/usecases/pipeline/rescan.ts";
import { type SweepDeps, sweep } from "../../core/usecases/pipeline/sweep.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { EICAR } from "../fixtures/malicious.ts";
import { pollDeadline } from "../support/deadline.ts";
import { clientsFor } from "../support/local.ts";

let stack: LocalStack;
let io: ReturnType<typeof clientsFor>;
let dir: string;
/** The scan stage crashes on "flaky" files while this is set, as a broken engine would. */
let scanBroken = true;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-rescan-"));
  stack = await startLocalStack({
    stateFile: join(dir, "local.json"),
    // Short enough for the crashing scans to be dead-lettered quickly, long enough that an invocation slowed by a
    // loaded machine is not taken for a crashed one (that would dead-letter a healthy file's message).
    visibilityTimeoutSeconds: 3,
    maxReceiveCount: 2,
    sweepIntervalMs: 3_600_000,
    crash: (stage, body) => scanBroken && stage === "scan" && body.includes("flaky"),
  });
  io = clientsFor(stack);
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

function deps() {
  const { state } = stack;
  const sns = new SNSClient({
    region: state.region,
    credentials: state.credentials,
    endpoint: state.endpoints.sns,
  });
  return {
    records: io.records,
    redrive: async (message: string) => {
      await sns.send(new PublishCommand({ TopicArn: state.fanoutTopicArn, Message: message }));
    },
  };
}

async function waitFor(fileId: string, status: string, timeoutMs = 30_000) {
  const deadline = pollDeadline(timeoutMs);
  for (;;) {
    const record = await io.records.get(fileId);
    if (record?.status === status && record.notifiedAt) return record;
    if (deadline.passed()) {
      const activity = await stack.activity().catch((error: unknown) => String(error));
      throw new Error(
        `${fileId} is ${record?.status}, not ${status} (and ${deadline.stalledMs} ms stalled); the stack: ${JSON.stringify(activity)}`,
      );
    }
    await deadline.sleep(50);
  }
}

describe("Rescan on the local stack", () => {
  it("judges a file that failed scanning again once the fault is gone, and tells its owner again", async () => {
    const fileId = await io.drop("drops/itest/flaky report.txt", "quarterly numbers\n", "text/plain");
    const failed = await io.waitFinal(fileId, 30_000);
    expect(failed.status).toBe("FAILED");
    await stack.idle(30_000);
    scanBroken = false;

    const out = await promisify(execFile)(
      process.execPath,
      [resolve("local/bin/airlock.mjs"), "rescan", fileId, "--wait", "--json"],
      {
        env: { ...process.env, AIRLOCK_STATE_DIR: dir },
      },
    );
    const record = JSON.parse(out.stdout);
    expect(record.status, JSON.stringify(record.reasons)).toBe("VERIFIED");
    expect(record.rescans).toBe(1);
    const final = await waitFor(fileId, "VERIFIED");
    expect(final.cleanKey).toBe("drops/itest/flaky report.txt");
    await stack.idle(30_000);
    const notices = stack.outbox.filter((n) => n.attributes.fileId === fileId);
    expect(notices.map((n) => n.attributes.status)).toEqual(["FAILED", "VERIFIED"]);
  }, 90_000);

  it("keeps an infected file infected and counts the rescan", async () => {
    const fileId = await io.drop("drops/itest/rescan-eicar.txt", EICAR, "text/plain");
    expect((await io.waitFinal(fileId)).status).toBe("INFECTED");
    const reopened = await rescan(fileId, "operator:test", deps());
    expect(reopened.status).toBe("PENDING");
    const again = await waitFor(fileId, "INFECTED");
    expect(again.rescans).toBe(1);
    expect(again.reasons).toEqual(["Airlock.Eicar"]);
    expect(again.promotedAt).toBeUndefined();
  }, 60_000);

  it("refuses verified and unknown files with a reason", async () => {
    const verified = await io.drop("drops/itest/rescan-ok.txt", "fine\n", "text/plain");
    expect((await io.waitFinal(verified)).status).toBe("VERIFIED");
    await expect(rescan(verified, "operator:test", deps())).rejects.toThrow(
      /VERIFIED; only FAILED, REJECTED, INFECTED/,
    );
    await expect(rescan("NOSUCHFILE", "operator:test", deps())).rejects.toThrow(RescanRefusedError);

    const cli = await promisify(execFile)(
      process.execPath,
      [resolve("local/bin/airlock.mjs"), "rescan", verified],
      {
        env: { ...process.env, AIRLOCK_STATE_DIR: dir },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect((cli as { code: number }).code).toBe(1);
    expect((cli as { stderr: string }).stderr).toMatch(/only FAILED, REJECTED, INFECTED files/);
  });

  it("rescans files that FAILED on a scan error on the sweeper's schedule, up to the attempt limit", async () => {
    scanBroken = true;
    const fileId = await io.drop("drops/itest/flaky-scheduled.txt", "numbers\n", "text/plain");
    expect((await io.waitFinal(fileId, 30_000)).status).toBe("FAILED");
    await stack.idle(30_000);
    // Nothing counts as stuck (a threshold far away); only the FAILED-file rescans run.
    const sweepDeps = {
      ...deps(),
      objects: undefined,
      notifier: undefined,
      cleanBucket: "",
    } as unknown as SweepDeps;
    const later = new Date(Date.now() + 3_600_000);
    const policy = { afterSeconds: 60, maxAttempts: 1 };
    expect((await sweep(sweepDeps, 1e9, new Date(), policy)).rescanned).not.toContain(fileId); // not 60 s yet

    const first = await sweep(sweepDeps, 1e9, later, policy);
    expect(first.rescanned).toContain(fileId);
    const again = await waitFor(fileId, "FAILED"); // still broken: fails again
    expect(again.rescans).toBe(1);
    await stack.idle(30_000);
    expect((await sweep(sweepDeps, 1e9, later, policy)).rescanned).not.toContain(fileId); // limit reached

    scanBroken = false;
    expect((await sweep(sweepDeps, 1e9, later, { ...policy, maxAttempts: 2 })).rescanned).toContain(fileId);
    expect((await waitFor(fileId, "VERIFIED")).rescans).toBe(2);
  }, 120_000);
});
