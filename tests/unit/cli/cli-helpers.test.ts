import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findHome } from "../../../local/cli/home.ts";
import {
  fileStatus,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  systemName,
} from "../../../local/cli/parse.ts";
import { formatDuration, progressSink, Rate, transferLine } from "../../../local/cli/progress.ts";
import { defaultWaitSeconds } from "../../../local/cli/wait.ts";

describe("Function: findHome", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "airlock-home-"));
    await mkdir(join(dir, "repo", ".airlock"), { recursive: true });
    await mkdir(join(dir, "repo", "src", "deep"), { recursive: true });
    await writeFile(join(dir, "repo", ".airlock", "local.json"), "{}");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prefers AIRLOCK_HOME, then AIRLOCK_STATE_DIR", () => {
    expect(findHome(dir, { AIRLOCK_HOME: "h", AIRLOCK_STATE_DIR: "s" }, "/co")).toEqual({
      dir: join(dir, "h"),
      via: "AIRLOCK_HOME",
    });
    expect(findHome(dir, { AIRLOCK_STATE_DIR: "/s" }, "/co")).toEqual({
      dir: "/s",
      via: "AIRLOCK_STATE_DIR",
    });
  });

  it("finds .airlock/local.json from a folder below it", () => {
    expect(findHome(join(dir, "repo", "src", "deep"), {}, "/co")).toEqual({
      dir: join(dir, "repo", ".airlock"),
      via: "upwards",
    });
  });

  it("falls back to the checkout the CLI lives in", () => {
    expect(findHome(dir, {}, "/co")).toEqual({ dir: "/co/.airlock", via: "checkout" });
  });
});

describe("Option parsers", () => {
  it.each([
    [positiveNumber, "0.5", 0.5],
    [positiveInt, "12", 12],
    [nonNegativeInt, "0", 0],
    [systemName, "billing-2", "billing-2"],
    [fileStatus, "verified", "VERIFIED"],
  ] as const)("%o accepts %s", (parse, value, expected) => {
    expect((parse as (v: string) => unknown)(value)).toBe(expected);
  });

  it.each([
    [positiveNumber, ["-5", "0", "", "soon", "Infinity"]],
    [positiveInt, ["0", "1.5", "-1", "1e3", " "]],
    [nonNegativeInt, ["-1", "x"]],
    [systemName, ["a/b", "", "x".repeat(65), "spa ce"]],
    [fileStatus, ["SHINY"]],
  ] as const)("%o refuses bad values", (parse, values) => {
    for (const v of values)
      expect(() => (parse as (v: string) => unknown)(v), v).toThrow(InvalidArgumentError);
  });
});

describe("Progress", () => {
  const fakeStream = (isTTY: boolean) => {
    const writes: string[] = [];
    return {
      writes,
      stream: { isTTY, columns: 80, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream,
    };
  };

  it("draws on a terminal and stays silent when piped or turned off", () => {
    const tty = fakeStream(true);
    progressSink(true, tty.stream).update(() => "working", true);
    expect(tty.writes.join("")).toContain("working");
    const piped = fakeStream(false);
    progressSink(true, piped.stream).update(() => "working", true);
    const off = fakeStream(true);
    progressSink(false, off.stream).update(() => "working", true);
    expect([...piped.writes, ...off.writes]).toEqual([]);
  });

  it("shows bytes, rate and ETA", () => {
    expect(transferLine(512 * 1024 * 1024, 1024 * 1024 * 1024, 64 * 1024 * 1024)).toBe(
      "[########--------] 512.0 MiB/1.0 GiB  64.0 MiB/s  ETA 0:08",
    );
    expect(formatDuration(3725)).toBe("1:02:05");
    expect(formatDuration(Number.NaN)).toBe("--:--");
  });

  it("measures the rate over a recent window", () => {
    const rate = new Rate(1000);
    rate.add(0, 0);
    rate.add(1_000_000, 500);
    rate.add(2_000_000, 1000);
    expect(rate.perSecond()).toBe(2_000_000);
  });
});

describe("Function: defaultWaitSeconds", () => {
  it("grows with the size so that large files are not given up on", () => {
    expect(defaultWaitSeconds(0)).toBe(60);
    expect(defaultWaitSeconds(1024 * 1024 * 1024)).toBeGreaterThan(3 * 50);
  });
});
