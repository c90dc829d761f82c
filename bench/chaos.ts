/**
 * `npm run bench -- chaos`: a seeded mixed corpus through the local stack with faults on (AWS calls failing,
 * invocations crashing between side effects) and the whole stack SIGKILLed and started again on its data
 * directory, quiesced, then the invariant checker. CHAOS_FILES, CHAOS_AWS, CHAOS_CRASH, CHAOS_SEED, CHAOS_KILLS
 * and CHAOS_PORT_BASE scale it (default 2000 files, 5 % of calls failing, 1 % crashing, seed 42, 10 kills, the
 * child stack on ports 4766–4770). CHAOS_KILLS=0 runs the stack in this process, without persistence.
 */
import { runChaos } from "../local/chaos.ts";

export async function benchChaos() {
  const started = Date.now();
  const result = await runChaos({
    files: Number(process.env.CHAOS_FILES ?? 2000),
    seed: Number(process.env.CHAOS_SEED ?? 42),
    faults: { aws: Number(process.env.CHAOS_AWS ?? 0.05), crash: Number(process.env.CHAOS_CRASH ?? 0.01) },
    kills: Number(process.env.CHAOS_KILLS ?? 10),
    portBase: Number(process.env.CHAOS_PORT_BASE ?? 4766),
    largeBytes: 8 * 1024 * 1024,
    quiesceTimeoutMs: 1_800_000,
  });
  return {
    ...result,
    violations: result.violations.slice(0, 50),
    totalSeconds: (Date.now() - started) / 1000,
  };
}
