import { describe, expect, test } from "bun:test"
import { erroredFiles, failedTests } from "./failedTests.ts"

const testcase = (attributes: string, body?: string) =>
  body === undefined ? `<testcase ${attributes} time="0" assertions="0" />` : `<testcase ${attributes} time="0" assertions="1">${body}</testcase>`

/** A suite as bun writes one: a file at the top, a describe block inside. */
const suite = (name: string, ...content: ReadonlyArray<string>) =>
  `<testsuite name="${name}" file="test/a.test.ts" tests="1" assertions="1" failures="1" skipped="0" time="0" hostname="vm">\n${content.join("\n")}\n</testsuite>`

const FAILURE = `<failure type="AssertionError" message="expect(received).toBe(expected)">AssertionError: at a.test.ts:2:63&#10;</failure>`

describe("failedTests", () => {
  test.each([
    { name: "a passing test", report: suite("test/a.test.ts", testcase(`name="ok" classname="" file="a.test.ts" line="3"`)), expected: [] },
    { name: "a skipped test", report: suite("test/a.test.ts", testcase(`name="later" classname="" file="a.test.ts" line="4"`, "<skipped />")), expected: [] },
    {
      name: "a failure inside a describe",
      report: suite("test/a.test.ts", suite("group", testcase(`name="same name" classname="group" file="test/a.test.ts" line="2"`, FAILURE))),
      expected: ["(fail) test/a.test.ts:2 > group > same name"]
    },
    {
      // bun writes the classname of a nested case innermost first; the suites are in order.
      name: "a failure two describes deep",
      report: suite("test/a.test.ts", suite("outer", suite("inner", testcase(`name="deep" classname="inner &gt; outer" file="test/a.test.ts" line="4"`, FAILURE)))),
      expected: ["(fail) test/a.test.ts:4 > outer > inner > deep"]
    },
    {
      name: "a failure at the top level",
      report: suite("test/b.test.ts", testcase(`name="top" classname="" file="test/b.test.ts" line="9"`, FAILURE)),
      expected: ["(fail) test/b.test.ts:9 > top"]
    },
    {
      name: "a failed hook, which bun reports without a line",
      report: suite("test/h.test.ts", suite("hooked", testcase(`name="(unnamed)" classname="hooked" file="test/h.test.ts"`, FAILURE))),
      expected: ["(fail) test/h.test.ts > hooked > (unnamed)"]
    },
    {
      name: "an error, escaped names",
      report: suite("test/c.test.ts", suite("x", testcase(`name="a &lt;b&gt; &amp; &quot;c&quot;" classname="x" file="test/c.test.ts" line="1"`, `<error message="boom" />`))),
      expected: [`(fail) test/c.test.ts:1 > x > a <b> & "c"`]
    },
    {
      name: "two files with a test of the same name, one failing; a describe closed before the next case",
      report: [
        suite("test/a.test.ts", suite("group", testcase(`name="same name" classname="group" file="test/a.test.ts" line="2"`))),
        suite("test/b.test.ts", suite("group", testcase(`name="same name" classname="group" file="test/b.test.ts" line="2"`, FAILURE)), testcase(`name="after" classname="" file="test/b.test.ts" line="5"`, FAILURE))
      ].join("\n"),
      expected: ["(fail) test/b.test.ts:2 > group > same name", "(fail) test/b.test.ts:5 > after"]
    }
  ])("$name", ({ report, expected }) => {
    expect(failedTests(`<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bun test">${report}</testsuites>`)).toEqual(expected)
  })
})

describe("erroredFiles: a file with an error outside any test, which the report leaves out", () => {
  const unhandled = "# Unhandled error between tests\n-------------------------------\nerror: cannot load\n-------------------------------\n"
  test.each([
    { name: "a clean run", output: "test/a.test.ts:\n(pass) ok\n\n 1 pass\n", expected: [] },
    {
      name: "a file that failed to load, between files that ran",
      output: `bun test v1.4.5\n\ntest/a.test.ts:\n(pass) ok\n\ntest/broken.test.ts:\n\n${unhandled}\ntest/c.test.ts:\n(fail) x\n`,
      expected: ["test/broken.test.ts"]
    },
    { name: "headers in colour", output: `\u001b[0m\u001b[2mtest/col.test.ts:\u001b[0m\n${unhandled}`, expected: ["test/col.test.ts"] },
    { name: "two errors in one file are one file", output: `test/d.test.ts:\n${unhandled}${unhandled}`, expected: ["test/d.test.ts"] }
  ])("$name", ({ output, expected }) => {
    expect(erroredFiles(output)).toEqual(expected.map((file) => `(error) ${file} > an error outside any test (it did not load, or threw between tests): see above`))
  })
})
