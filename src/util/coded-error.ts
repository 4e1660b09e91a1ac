/**
 * An error with a stable machine-readable `code`: callers branch on the code, never on the
 * message text, which is for humans.
 */
export class CodedError<Code extends string> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

export function isCodedError(err: unknown): err is CodedError<string> {
  return err instanceof CodedError;
}
