/**
 * The errors the pipeline's use cases raise. Each takes `{ cause }`, so the error it translated stays attached.
 * What a handler does with them: RescanRefusedError is the operator's answer (a 4xx-like refusal, never retried);
 * NotYetRegisteredError and OcrJobInProgressError ask the queue to deliver again later; UnreadableOcrMessageError
 * marks a message that no retry can help; PipelineConfigurationError is a wiring mistake found at run time.
 */

/** A rescan was refused: no such file, not held, promoted, or changed while the rescan was asked for. */
export class RescanRefusedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RescanRefusedError";
  }
}

/** Thrown so the queue retries: the pipeline has not registered the object (or its newer version) yet. */
export class NotYetRegisteredError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NotYetRegisteredError";
  }
}

/** A message on the OCR queue that is not a Textract completion. */
export class UnreadableOcrMessageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnreadableOcrMessageError";
  }
}

/** Textract announced a job's end but its results still say in progress: the queue retries. */
export class OcrJobInProgressError extends Error {
  constructor(
    readonly jobId: string,
    options?: ErrorOptions,
  ) {
    super(`Textract job ${jobId} is still in progress`, options);
    this.name = "OcrJobInProgressError";
  }
}

/** A use case was wired without a port its configuration needs. */
export class PipelineConfigurationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PipelineConfigurationError";
  }
}
