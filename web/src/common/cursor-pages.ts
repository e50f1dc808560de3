import { useCallback, useState } from 'react'

/**
 * Cursor pagination for list endpoints that answer `{ items, next_cursor }`: keeps the cursors of
 * the pages seen so far so the user can step back.
 */
export function useCursorPages() {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined])
  const cursor = stack[stack.length - 1]
  const next = useCallback((nextCursor: string | null | undefined) => {
    if (nextCursor) setStack((s) => [...s, nextCursor])
  }, [])
  const previous = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), [])
  const reset = useCallback(() => setStack([undefined]), [])
  return { cursor, page: stack.length, next, previous, reset, hasPrevious: stack.length > 1 }
}
