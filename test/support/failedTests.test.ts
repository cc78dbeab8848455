import { describe, expect, test } from "bun:test"
import { failedTests } from "./failedTests.ts"

const testcase = (attributes: string, body?: string) =>
  body === undefined ? `<testcase ${attributes} time="0" assertions="0" />` : `<testcase ${attributes} time="0" assertions="1">${body}</testcase>`

const FAILURE = `<failure type="AssertionError" message="expect(received).toBe(expected)">AssertionError: at a.test.ts:2:63&#10;</failure>`

describe("failedTests", () => {
  test.each([
    { name: "a passing test", report: testcase(`name="ok" classname="" file="a.test.ts" line="3"`), expected: [] },
    { name: "a skipped test", report: testcase(`name="later" classname="" file="a.test.ts" line="4"`, "<skipped />"), expected: [] },
    {
      name: "a failure inside a describe",
      report: testcase(`name="same name" classname="group" file="test/a.test.ts" line="2"`, FAILURE),
      expected: ["(fail) test/a.test.ts:2 > group > same name"]
    },
    {
      name: "a failure at the top level",
      report: testcase(`name="top" classname="" file="test/b.test.ts" line="9"`, FAILURE),
      expected: ["(fail) test/b.test.ts:9 > top"]
    },
    {
      name: "an error, escaped names",
      report: testcase(`name="a &lt;b&gt; &amp; &quot;c&quot;" classname="x" file="test/c.test.ts" line="1"`, `<error message="boom" />`),
      expected: [`(fail) test/c.test.ts:1 > x > a <b> & "c"`]
    },
    {
      name: "two files with a test of the same name, one failing",
      report: [
        testcase(`name="same name" classname="group" file="test/a.test.ts" line="2"`),
        testcase(`name="same name" classname="group" file="test/b.test.ts" line="2"`, FAILURE)
      ].join("\n"),
      expected: ["(fail) test/b.test.ts:2 > group > same name"]
    }
  ])("$name", ({ report, expected }) => {
    expect(failedTests(`<testsuites><testsuite name="f">${report}</testsuite></testsuites>`)).toEqual(expected)
  })
})
