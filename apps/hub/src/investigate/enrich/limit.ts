/**
 * Runs at most `concurrency` of the given tasks at a time and resolves with every outcome in
 * order (like Promise.allSettled with a limit). The fan-out's tasks never reject, but a bug in
 * one must not take the others down with it.
 */
export async function settleLimited<T>(
  tasks: readonly (() => Promise<T>)[],
  concurrency: number,
): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++
      try {
        results[index] = { status: 'fulfilled', value: await (tasks[index] as () => Promise<T>)() }
      } catch (reason) {
        results[index] = { status: 'rejected', reason }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker))
  return results
}
