/** Malware scanning: the engine contract, verdict combination and the built-in engine. */
export { createBuiltinEngine } from "./builtin.ts";
export { combineEngineResults, type ScanContext, type ScanEngine, type ScanLimits } from "./engine.ts";
export { classify, EICAR, type Kind } from "./signatures.ts";
