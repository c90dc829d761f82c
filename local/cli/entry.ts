/** The bundle's entry: runs the command line and exits with its code once stdout is flushed. */
import { main, report } from "./main.ts";

const exit = (code: number) => {
  process.exitCode = code;
  // Let piped output drain first; then leave even if an idle keep-alive socket lingers.
  process.stdout.write("", () => process.exit(code));
};

// `airlock list | head`: the reader went away; that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
});
process.on("uncaughtException", (error) => exit(report(error)));
process.on("unhandledRejection", (error) => exit(report(error)));

exit(await main(process.argv.slice(2)));
