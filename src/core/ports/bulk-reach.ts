/**
 * Which identities bulk messages (reminders, broadcasts) may reach besides the real ones, as
 * the store's bulk planning and audience queries take it.
 *
 * Sandbox identities stand in for real ones while only the sandbox runs, so a newcomer trying
 * the demo sees reminders and broadcasts arrive; once a real front is configured, or the
 * sandbox is off, they are left out (`includeSandbox: false`; see src/config/sandbox.ts).
 */
export interface BulkReach {
  /** Sandbox identities count as reachable (default true). */
  includeSandbox?: boolean;
}
