import { TartanError } from '../errors';

export const SELECTOR_INVALID = 'SELECTOR_INVALID';

/** A selector that does not parse; `position` is the 0-based character offset. */
export class SelectorError extends TartanError {
  constructor(
    readonly selector: string,
    readonly position: number,
    readonly problem: string,
  ) {
    super(SELECTOR_INVALID, `invalid selector ${JSON.stringify(selector)}: ${problem} at position ${position}`);
  }
}
