/**
 * Stand-ins for the CustomFunctions global's parts the functions bundle uses: error codes, errors,
 * streaming invocations (used by ./fake-workbook.ts and the function tests).
 * @see https://learn.microsoft.com/javascript/api/custom-functions-runtime/customfunctions
 */

/** CustomFunctions.ErrorCode's values. */
export const ErrorCode = {
  invalidValue: "#VALUE!",
  notAvailable: "#N/A",
  divisionByZero: "#DIV/0!",
  invalidNumber: "#NUM!",
  nullReference: "#NULL!",
  invalidName: "#NAME?",
  invalidReference: "#REF!",
} as const;

/** CustomFunctions.Error. */
export class StandInError {
  constructor(
    readonly code: string,
    readonly message?: string,
  ) {}
}

/** A CustomFunctions.StreamingInvocation that records every result. */
export class StreamingInvocationStub<T = unknown> {
  readonly results: (T | StandInError)[] = [];
  onCanceled?: () => void;
  canceled = false;
  /** Results set after `cancel` (there should be none). */
  resultsAfterCancel = 0;
  constructor(readonly address?: string) {}

  setResult = (value: T | StandInError): void => {
    if (this.canceled) this.resultsAfterCancel++;
    this.results.push(value);
  };

  get last(): T | StandInError | undefined {
    return this.results[this.results.length - 1];
  }

  /** What Excel does when the formula is deleted, overwritten or recalculated away. */
  cancel(): void {
    this.canceled = true;
    this.onCanceled?.();
  }
}

