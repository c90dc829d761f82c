/**
 * Imported before the tracer: when tracing is off, the X-Ray SDK is put in manual mode before it loads.
 *
 * In its default (automatic) mode the X-Ray SDK creates a `cls-hooked` namespace as it loads, and with it an
 * async hook with a destroy callback, so that every promise of the process is tracked from then on, whether or
 * not anything is ever traced (a CPU profile of the local pipeline: about an eighth of the handlers' thread,
 * plus the garbage it makes). Powertools Tracer only traces inside Lambda (`AWS_EXECUTION_ENV`, not the Amplify
 * mock), not under SAM local, and not with `POWERTOOLS_TRACE_ENABLED=false`; when it will not trace, nothing
 * needs the namespace. When it will, automatic mode stays, as the tracer's subsegments need it.
 */
export function tracingWillBeOn(env: Record<string, string | undefined> = process.env): boolean {
  const execution = env.AWS_EXECUTION_ENV ?? "";
  return (
    execution !== "" &&
    execution !== "AWS_Lambda_amplify-mock" &&
    (env.AWS_SAM_LOCAL ?? "") === "" &&
    env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== "false"
  );
}

if (!tracingWillBeOn()) process.env.AWS_XRAY_MANUAL_MODE ??= "true";
