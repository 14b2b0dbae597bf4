/** A binary min-heap of (due time, key), for the retry schedule of deferred messages. */
export class RetryHeap<K> {
  private readonly items: { at: number; key: K; version: number }[] = []

  get size(): number {
    return this.items.length
  }

  push(at: number, key: K, version: number): void {
    const items = this.items
    items.push({ at, key, version })
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((items[parent] as { at: number }).at <= at) break
      ;[items[i], items[parent]] = [
        items[parent] as (typeof items)[number],
        items[i] as (typeof items)[number],
      ]
      i = parent
    }
  }

  peek(): { at: number; key: K; version: number } | undefined {
    return this.items[0]
  }

  pop(): { at: number; key: K; version: number } | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last) {
      items[0] = last
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let smallest = i
        if (
          left < items.length &&
          (items[left] as { at: number }).at < (items[smallest] as { at: number }).at
        )
          smallest = left
        if (
          right < items.length &&
          (items[right] as { at: number }).at < (items[smallest] as { at: number }).at
        )
          smallest = right
        if (smallest === i) break
        ;[items[i], items[smallest]] = [
          items[smallest] as (typeof items)[number],
          items[i] as (typeof items)[number],
        ]
        i = smallest
      }
    }
    return top
  }
}
