/** Why a promopt call failed: bad input (the caller can fix it) or an internal failure. */
export type ErrorCode = 'BAD_INPUT' | 'NOT_CONVERGED' | 'UNSUPPORTED' | 'INTERNAL';

/**
 * The one error class promopt throws on purpose. `message` is a single line that names the
 * file, row or field at fault; the CLI prints it and exits 2 for input errors, 1 otherwise.
 */
export class PromoptError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'PromoptError';
    this.code = code;
  }
}

export function badInput(message: string): PromoptError {
  return new PromoptError('BAD_INPUT', message);
}
