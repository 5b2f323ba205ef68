/**
 * How long the test helpers wait for something to happen before failing: generous, since it
 * only runs out when something is wrong, and a loaded 2-core CI machine running test files side
 * by side can take seconds to start a process and answer its first message.
 */
export const WAIT_MS = 20_000;

/** Polls `probe` until it gives something truthy (returned), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
