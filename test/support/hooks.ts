/**
 * How long a file's hooks may take to start or stop its servers: on a loaded machine, stopping a
 * git server and its children can take longer than a test's default five seconds.
 */
export const SERVER_HOOK_TIMEOUT = 60_000
