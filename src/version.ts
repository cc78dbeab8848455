/** The package's version, kept equal to package.json's (a test checks it). */
export const PACKAGE_VERSION = "0.1.0"

/** Set by build.ts (`--define`) in the executable; absent when the source runs as it is. */
declare const RUNNER_BUILD_VERSION: string | undefined

/**
 * What `--version`, runner_build_info and the user agent report: the build's version, which names
 * its commit (`0.1.0+<commit>`, or RUNNER_VERSION), or the package's when the source runs as it is.
 */
export const VERSION: string = typeof RUNNER_BUILD_VERSION === "string" ? RUNNER_BUILD_VERSION : PACKAGE_VERSION
