/**
 * Errors a user can fix by changing their command or installing something.
 * The CLI prints only `message` (one line, naming the bad value and the valid
 * choices) and exits with `exitCode`; anything else is a bug and gets a stack.
 */
export class UsageError extends Error {
  readonly exitCode: number = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A dataset file is missing or does not match its checksum. */
export class DataError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** A backend that was asked for by name cannot be loaded here. */
export class BackendError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

/** "a, b or c" — for error messages that list valid choices. */
export function listChoices(choices: readonly string[]): string {
  if (choices.length <= 1) return choices.join('');
  return `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`;
}

/**
 * The disk holding --out is full (ENOSPC) or over quota (EDQUOT). Exit 2 like the other
 * errors the user fixes outside the suite (missing data, a backend, an unwritable --out):
 * exit 1 is kept for "a verdict differs from its expectation".
 */
export class DiskFullError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'DiskFullError';
  }
}
