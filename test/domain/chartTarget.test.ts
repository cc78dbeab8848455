/** The image name a chart target is known by, from its repository's address. */
import { describe, expect, test } from "bun:test"
import { Either } from "effect"
import { chartImageName } from "../../src/domain/chartTarget.ts"
import { parseImageName } from "../../src/domain/ImageRef.ts"

describe("chartImageName", () => {
  test.each([
    ["a host and a path", "https://charts.example.com/stable", "charts.example.com/stable/nginx"],
    ["no path", "https://charts.bitnami.com", "charts.bitnami.com/nginx"],
    ["a port", "http://127.0.0.1:8080/charts", "127.0.0.1:8080/charts/nginx"],
    ["https's own port is no port", "https://charts.example.com:443/x", "charts.example.com/x/nginx"],
    ["a path not fit for an image name", "https://example.github.io/My_Charts/%7Eteam/", "example.github.io/my-charts/team/nginx"],
    ["a host without a dot over http gets its port", "http://chartmuseum", "chartmuseum:80/nginx"],
    ["localhost", "http://localhost/charts", "localhost/charts/nginx"]
  ])("%s", (_, address, expected) => {
    const name = chartImageName(address, "nginx")
    expect(name).toEqual(Either.right(expected))
    // What is keyed by image must read it back as a name on that host, never a Docker Hub image.
    const parsed = Either.flatMap(name, parseImageName)
    expect(Either.map(parsed, (ref) => `${ref.registry}/${ref.repository}`)).toEqual(Either.right(expected))
  })

  test("an https host without a dot or port is refused: its name would read as a Docker Hub image", () => {
    expect(chartImageName("https://chartmuseum/charts", "nginx")).toEqual(
      Either.left("chart repository host chartmuseum has no dot: give its address a host name with a domain, or a port")
    )
  })
})
