/**
 * What a health probe is: a function of an abort signal.
 *
 * @packageDocumentation
 */

/**
 * One check of a container's health. It passes when it returns or resolves (a string it gives is
 * kept as its output), and fails when it throws, rejects, or outlasts `timeoutMs`; `signal` is then
 * aborted, and a probe that started work (a request, a process) should end it.
 */
export type HealthProbe = (signal: AbortSignal) => unknown;
