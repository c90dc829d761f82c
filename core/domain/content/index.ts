/** Content inspection: type detection, validation rules and streamed document facts. */
export { decodeText, detectType, HEAD_BYTES, TEXT_FAMILY } from "./detect.ts";
export { createFactsCollector, type FactsCollector } from "./facts.ts";
export {
  contentTypeAgrees,
  evaluateValidation,
  extensionAgrees,
  type ValidationInput,
  type ValidationPolicy,
} from "./validate.ts";
