/**
 * How long the test helpers wait for something to happen before failing: generous, since it
 * only runs out when something is wrong, and a loaded 2-core CI machine running test files side
 * by side can take seconds to start a process and answer its first message.
 */
export const WAIT_MS = 20_000;
