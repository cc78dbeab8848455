/**
 * GitHub redelivers a webhook (by hand, or when it timed out waiting for an answer) with the same
 * `X-GitHub-Delivery` id. The ids of recent deliveries are remembered, at most `capacity` of them,
 * the oldest forgotten first, so a replayed delivery sets nothing off and the memory stays bounded.
 */
export const GITHUB_DELIVERY_HEADER = "x-github-delivery"

/** Delivery ids are GUIDs; anything longer is not one and is not remembered. */
const MAX_ID_LENGTH = 100

export const DELIVERIES_REMEMBERED = 4096

export interface RecentDeliveries {
  /** True when `id` was already seen; else remembers it. Check and record are one step, so concurrent replays cannot both pass. */
  readonly seen: (id: string) => boolean
  readonly size: () => number
}

export const recentDeliveries = (capacity: number = DELIVERIES_REMEMBERED): RecentDeliveries => {
  // A Set iterates in insertion order: its first value is the oldest.
  const ids = new Set<string>()
  return {
    seen: (id) => {
      if (id.length > MAX_ID_LENGTH) return false
      if (ids.has(id)) return true
      ids.add(id)
      if (ids.size > capacity) {
        const oldest = ids.values().next()
        if (oldest.done !== true) ids.delete(oldest.value)
      }
      return false
    },
    size: () => ids.size
  }
}
