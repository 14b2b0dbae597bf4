/**
 * Message bodies held in memory live in a SharedArrayBuffer: the content pipeline posts every
 * body to an analysis worker thread, and a typed array over shared memory crosses postMessage
 * without a copy, where one over an ordinary ArrayBuffer is cloned byte by byte (about 17 µs
 * for a 5 KB message, on the event loop that also answers every SMTP session). Nothing writes
 * to a body once it is accepted, so sharing it is safe.
 */
export function allocateSharedBody(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size))
}

/** The chunks of a body, joined in shared memory. */
export function joinSharedBody(chunks: readonly Buffer[], size: number): Buffer {
  const body = allocateSharedBody(size)
  let offset = 0
  for (const chunk of chunks) offset += chunk.copy(body, offset)
  return body
}
