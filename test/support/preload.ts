/** Loaded before every test file (bunfig.toml): what the whole run shares. */
import { afterAll } from "bun:test"
import { removeTempDirs } from "./tempDirs.ts"

// Once, after the last file: a test that fails half way leaves nothing behind either.
afterAll(removeTempDirs)
