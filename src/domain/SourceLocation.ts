/** Where a value was declared in a config or watcher file, for messages. */
export interface SourceLocation {
  readonly file: string
  readonly line: number
}
