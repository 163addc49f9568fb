/**
 * The one function that does nothing.
 */

/** Does nothing: the handler of a promise whose outcome is dealt with elsewhere (a queue's tail, a promise awaited later). */
export function noop (): void {}
