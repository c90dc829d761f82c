/** Malware scanning: the engine contract, verdict combination and the built-in engine. */
export { classify, createBuiltinEngine, EICAR } from "./builtin.ts";
export { combineEngineResults, type ScanContext, type ScanEngine, type ScanLimits } from "./engine.ts";
