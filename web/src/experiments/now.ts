import { useEffect, useState } from 'react'

/** The time now (epoch ms), ticking every `everyMs` while `live` (a running clock for a running run). */
export function useNow(live: boolean, everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!live) return
    const timer = window.setInterval(() => setNow(Date.now()), everyMs)
    return () => window.clearInterval(timer)
  }, [live, everyMs])
  return now
}
