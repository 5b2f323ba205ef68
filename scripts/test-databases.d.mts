/** The prefix of every database test runs and drills create on the TEST_DATABASE_URL server. */
export const TEST_DATABASE_PREFIX: string;
/** The URL without its password, for printing. */
export function shownUrl(url: string): string;
/**
 * Drops the test databases of run `run` (this process's by default) and those a killed run left
 * behind; resolves with how many were dropped.
 */
export function dropLeftovers(url: string, run?: number): Promise<number>;
