/**
 * Preloaded (`--import`) into a local-stack process by tests: ends the emulator thread a moment after the stack
 * has wired it up, as a crash of the emulators would. The stack code itself has no such switch.
 */
import { Worker } from "node:worker_threads";

const post = Worker.prototype.postMessage;
let scheduled = false;
Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker["postMessage"]>) {
  const [message] = args;
  if (!scheduled && (message as { type?: string } | null)?.type === "forward") {
    scheduled = true;
    setTimeout(() => void this.terminate(), Number(process.env.AIRLOCK_TEST_KILL_AFTER_MS ?? 1500));
  }
  return post.apply(this, args);
};
