/**
 * Fault injection for the local stack (off by default): `AIRLOCK_FAULTS="aws=0.05,crash=0.02,seed=42"`.
 *
 * An SDK middleware (step `initialize`, so outside the SDK's own retries: a fault is what the code sees after
 * the SDK gave up) is put on every SDK client's middleware stack, and acts only on calls made inside a handler
 * invocation run through `FaultInjector.invoke` — the stack's own plumbing (pollers, setup) is left alone, and
 * the code under test is the production code with its production clients.
 *
 * Per call, with the seeded generator:
 * - `aws`: the call fails as AWS calls fail: a throttle (`ThrottlingException`, 400), a service error
 *   (`InternalError`, 500), or a timeout (`TimeoutError`) — half the timeouts after the call went through, the
 *   ambiguous case where the effect happened and the caller cannot know.
 * - `crash`: the invocation dies (`SimulatedCrashError`) just before or just after the call — the states a Lambda
 *   timeout or out-of-memory leaves. A dead invocation makes no further call (each one throws again) and its
 *   result is never returned: `invoke` rejects, so its messages come back after their visibility timeout.
 *
 * Deterministic with a seed in the sense that the sequence of draws is fixed: with concurrent pollers, which call
 * meets which draw follows the scheduling, so two runs inject the same number of faults, not at the same calls.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { addClientMiddleware, type ClientMiddleware } from "./clients.ts";
import { ConfigurationError } from "./errors.ts";

export interface FaultConfig {
  /** Probability that one SDK call fails (throttle, service error or timeout). */
  aws: number;
  /** Probability that the invocation dies just before or just after one SDK call. */
  crash: number;
  seed: number;
}

export interface FaultStats {
  calls: number;
  throttles: number;
  errors: number;
  timeouts: number;
  crashes: number;
}

/** Thrown where a fault kills a handler invocation; never caught as an ordinary failure by the stack. */
export class SimulatedCrashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SimulatedCrashError";
  }
}

/** Parses `aws=0.05,crash=0.02,seed=42`; undefined when unset or empty. A malformed value is refused. */
export function parseFaults(spec: string | undefined): FaultConfig | undefined {
  if (spec === undefined || spec.trim() === "") return undefined;
  const config: FaultConfig = { aws: 0, crash: 0, seed: 1 };
  for (const part of spec.split(",")) {
    const [name, raw, ...rest] = part.split("=").map((s) => s.trim());
    const value = Number(raw);
    if (rest.length > 0 || raw === undefined || raw === "" || !Number.isFinite(value))
      throw new ConfigurationError(`AIRLOCK_FAULTS: "${part}" is not name=number`);
    if (name === "aws" || name === "crash") {
      if (value < 0 || value > 1)
        throw new ConfigurationError(`AIRLOCK_FAULTS: ${name} must be a probability in [0, 1]`);
      config[name] = value;
    } else if (name === "seed") {
      if (!Number.isInteger(value)) throw new ConfigurationError("AIRLOCK_FAULTS: seed must be an integer");
      config.seed = value;
    } else throw new ConfigurationError(`AIRLOCK_FAULTS: unknown setting "${name}" (aws, crash, seed)`);
  }
  if (config.aws + config.crash > 1)
    throw new ConfigurationError("AIRLOCK_FAULTS: aws + crash must not exceed 1");
  return config;
}

/** mulberry32: a small, well-known seeded generator (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Invocation {
  name: string;
  crashed: boolean;
}

function awsError(name: string, status: number, message: string): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
  });
}

export class FaultInjector {
  readonly stats: FaultStats = { calls: 0, throttles: 0, errors: 0, timeouts: 0, crashes: 0 };
  private readonly random: () => number;
  private readonly current = new AsyncLocalStorage<Invocation>();

  constructor(readonly config: FaultConfig) {
    this.random = seededRandom(config.seed);
  }

  /** Runs one handler invocation; rejects with SimulatedCrashError when a fault killed it. */
  async invoke<T>(name: string, run: () => Promise<T>): Promise<T> {
    const invocation: Invocation = { name, crashed: false };
    const result = await this.current.run(invocation, run).catch((error: unknown) => {
      if (invocation.crashed) throw new SimulatedCrashError(`${name} crashed`);
      throw error;
    });
    // The handler may have caught the crash as one record's failure: a dead process returns nothing.
    if (invocation.crashed) throw new SimulatedCrashError(`${name} crashed`);
    return result;
  }

  /** The SDK middleware itself. */
  middleware(): ClientMiddleware["middleware"] {
    return (next, context) => async (args) => {
      const invocation = this.current.getStore();
      if (!invocation) return next(args);
      const what = `${invocation.name}: ${context.commandName ?? "an SDK call"}`;
      if (invocation.crashed) throw new SimulatedCrashError(`${what} after the invocation died`);
      this.stats.calls++;
      const { aws, crash } = this.config;
      const draw = this.random();
      const kind = this.random();
      if (draw < crash) {
        this.stats.crashes++;
        if (kind >= 0.5) await next(args).catch(() => undefined);
        invocation.crashed = true;
        throw new SimulatedCrashError(`${what}: simulated crash ${kind < 0.5 ? "before" : "after"} the call`);
      }
      if (draw < crash + aws) {
        if (kind < 1 / 3) {
          this.stats.throttles++;
          throw awsError("ThrottlingException", 400, `${what}: injected throttle (Rate exceeded)`);
        }
        if (kind < 2 / 3) {
          this.stats.errors++;
          throw awsError("InternalError", 500, `${what}: injected service error`);
        }
        this.stats.timeouts++;
        if (kind >= 5 / 6) await next(args).catch(() => undefined);
        throw awsError("TimeoutError", 0, `${what}: injected timeout`);
      }
      return next(args);
    };
  }

  /**
   * Adds the middleware to every SDK client of the composition root (`addClientMiddleware`), those the handlers
   * built at import included; returns the function that removes it again.
   */
  install(): () => void {
    return addClientMiddleware({
      name: "airlockFaultInjection",
      step: "initialize",
      middleware: this.middleware(),
    });
  }
}
