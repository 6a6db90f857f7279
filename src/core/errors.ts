/** An error about one input file, with the file named in the message so users can find it. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'InputError';
  }
}

/** Raised when the user cancels a long operation; callers treat it as a clean abort, not a failure. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** A problem with the registry itself or with a request to it (unknown model, bad reference...). */
export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** An import refused because a version of the model already holds exactly these files. */
export class DuplicateImportError extends Error {
  constructor(
    readonly input: string,
    /** The version with the same files (relative paths and SHA-256). */
    readonly existing: { ref: string; id: number; model: string; number: number },
  ) {
    super(`${input}: same files as ${existing.ref}; nothing imported`);
    this.name = 'DuplicateImportError';
  }
}

/** An import refused because the input holds no model weights; it may be a dataset instead. */
export class NoWeightsError extends InputError {
  constructor(
    file: string,
    /** Its shape is one a dataset has (class folders of images, a table with a label column, inputs/labels arrays). */
    readonly looksLikeDataset: boolean,
  ) {
    super(file, 'no model weights found');
    this.name = 'NoWeightsError';
  }
}
