/**
 * `npm run bench -- chaos`: a seeded mixed corpus through the local stack with faults on (AWS calls failing,
 * invocations crashing between side effects), quiesced, then the invariant checker. CHAOS_FILES, CHAOS_AWS,
 * CHAOS_CRASH and CHAOS_SEED scale it (default 2000 files, 5 % of calls failing, 1 % crashing, seed 42).
 * The SIGKILL + restart part needs a persistent local stack, which it does not have yet: `kills` stays 0.
 */
import { runChaos } from "../local/chaos.ts";

export async function benchChaos() {
  const started = Date.now();
  const result = await runChaos({
    files: Number(process.env.CHAOS_FILES ?? 2000),
    seed: Number(process.env.CHAOS_SEED ?? 42),
    faults: { aws: Number(process.env.CHAOS_AWS ?? 0.05), crash: Number(process.env.CHAOS_CRASH ?? 0.01) },
    largeBytes: 8 * 1024 * 1024,
    quiesceTimeoutMs: 1_800_000,
  });
  return {
    ...result,
    violations: result.violations.slice(0, 50),
    totalSeconds: (Date.now() - started) / 1000,
  };
}
