import { DownloadOutlined, VerticalAlignBottomOutlined } from '@ant-design/icons'
import { Badge, Button, Card, Flex, Select, Typography } from 'antd'
import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react'
import { apiUrl, errorMessage, openStream } from '../api/client'
import type { JobDetail } from '../api/types'
import { logRequest } from './queries'

/** At most this many lines stay in the page; older ones are dropped as new ones arrive. */
export const MAX_LOG_LINES = 5_000
/** A finished attempt's log is read from about its last 2 MB. */
const TAIL_BYTES = 2 * 1024 * 1024

type Status = 'idle' | 'loading' | 'streaming' | 'done' | 'error'

interface LogSnapshot {
  text: string
  status: Status
  error: unknown
  /** Lines no longer shown: dropped to stay under the limit, or before the tail that was read. */
  dropped: number
  truncated: boolean
}

/** Lines kept outside React, so a fast log costs one render per frame, not one per chunk. */
class LineBuffer {
  lines: string[] = []
  partial = ''
  dropped = 0

  push(text: string) {
    const parts = (this.partial + text).split('\n')
    this.partial = parts.pop() ?? ''
    for (const line of parts) this.lines.push(line)
    const over = this.lines.length - MAX_LOG_LINES
    if (over > 0) {
      this.lines.splice(0, over)
      this.dropped += over
    }
  }

  dropFirst() {
    if (this.lines.length) this.lines.shift()
    else this.partial = ''
    this.dropped += 1
  }

  text(): string {
    const body = this.lines.join('\n')
    return this.partial ? (body ? `${body}\n${this.partial}` : this.partial) : body
  }
}

/**
 * One attempt's log read from the API: followed live while the attempt runs (appending as bytes
 * arrive), or its tail read once it has finished. A small external store for useSyncExternalStore.
 */
class LogStream {
  private buffer = new LineBuffer()
  private listeners = new Set<() => void>()
  private controller: AbortController | null = null
  private frame = 0
  private snapshot: LogSnapshot
  private readonly slug: string
  private readonly jobId: string
  private readonly attempt: number
  private readonly follow: boolean

  constructor(slug: string, jobId: string, attempt: number, follow: boolean) {
    this.slug = slug
    this.jobId = jobId
    this.attempt = attempt
    this.follow = follow
    this.snapshot = { text: '', status: attempt < 1 ? 'idle' : follow ? 'streaming' : 'loading', error: null, dropped: 0, truncated: false }
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  getSnapshot = () => this.snapshot

  private publish(patch: Partial<LogSnapshot> = {}) {
    this.snapshot = { ...this.snapshot, text: this.buffer.text(), dropped: this.buffer.dropped, ...patch }
    for (const l of this.listeners) l()
  }

  private schedule() {
    if (!this.frame)
      this.frame = requestAnimationFrame(() => {
        this.frame = 0
        this.publish()
      })
  }

  start() {
    if (this.attempt < 1) return
    this.stop()
    const controller = new AbortController()
    this.controller = controller
    this.buffer = new LineBuffer()
    this.publish({ status: this.follow ? 'streaming' : 'loading', error: null, truncated: false })
    const live = this.follow
    const req = logRequest(this.slug, this.jobId, { attempt: this.attempt, follow: live, tail: live ? undefined : TAIL_BYTES })
    void (async () => {
      try {
        const response = await openStream(req.path, { query: req.query, signal: controller.signal })
        const reader = response.body!.getReader()
        const decoder = new TextDecoder()
        let received = 0
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          received += value.byteLength
          this.buffer.push(decoder.decode(value, { stream: true }))
          this.schedule()
        }
        this.buffer.push(decoder.decode())
        // A tail of a longer log starts mid-line: drop that broken first line.
        const truncated = !live && received >= TAIL_BYTES
        if (truncated) this.buffer.dropFirst()
        if (this.frame) cancelAnimationFrame(this.frame)
        this.frame = 0
        this.publish({ status: 'done', truncated })
      } catch (err) {
        if (controller.signal.aborted) return
        this.publish({ status: 'error', error: err })
      }
    })()
  }

  stop() {
    this.controller?.abort()
    this.controller = null
    if (this.frame) cancelAnimationFrame(this.frame)
    this.frame = 0
  }
}

/** The log view of one attempt; whether it follows is decided when it opens (remount to change). */
function AttemptLog({ slug, jobId, attempt, follow, note: fallback }: { slug: string; jobId: string; attempt: number; follow: boolean; note: string }) {
  const [stream] = useState(() => new LogStream(slug, jobId, attempt, follow))
  useEffect(() => {
    stream.start()
    return () => stream.stop()
  }, [stream])
  const snap = useSyncExternalStore(stream.subscribe, stream.getSnapshot)
  const box = useRef<HTMLPreElement>(null)
  const [stick, setStick] = useState(true)

  // Stay at the newest line unless the reader scrolled up to look at something.
  useLayoutEffect(() => {
    const el = box.current
    if (stick && el) el.scrollTop = el.scrollHeight
  }, [snap.text, stick])

  const onScroll = () => {
    const el = box.current
    if (el) setStick(el.scrollHeight - el.scrollTop - el.clientHeight < 24)
  }

  let note: string | null = null
  if (attempt < 1) note = fallback
  else if (snap.status === 'loading') note = 'Loading the log…'
  else if (snap.status === 'error') note = `The log cannot be read: ${errorMessage(snap.error)}`
  else if (!snap.text && snap.status === 'streaming') note = 'Waiting for output…'
  else if (!snap.text && snap.status === 'done') note = 'This attempt wrote no output.'

  return (
    <>
      <Flex
        justify="space-between"
        align="center"
        style={{ padding: '6px 16px', fontSize: 12, borderBottom: '1px solid #f0f0f0', minHeight: 36 }}
      >
        {snap.status === 'streaming' ? (
          <Badge status="processing" text={<Typography.Text type="secondary">Following live</Typography.Text>} data-testid="log-live" />
        ) : (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {snap.dropped > 0 || snap.truncated
              ? `Showing the last ${MAX_LOG_LINES.toLocaleString()} lines at most; the raw log has all of it.`
              : attempt >= 1
                ? `Attempt ${attempt}`
                : ''}
          </Typography.Text>
        )}
        {!stick && (
          <Button size="small" type="link" icon={<VerticalAlignBottomOutlined />} onClick={() => setStick(true)}>
            Jump to the newest line
          </Button>
        )}
      </Flex>
      <pre
        ref={box}
        onScroll={onScroll}
        data-testid="job-log"
        data-status={snap.status}
        style={{
          margin: 0,
          height: 420,
          overflow: 'auto',
          padding: '12px 16px',
          background: '#141414',
          color: note ? '#8c8c8c' : '#e6e6e6',
          fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
          fontSize: 12.5,
          lineHeight: 1.55,
          whiteSpace: 'pre-wrap',
          wordBreak: 'break-all',
          borderRadius: '0 0 8px 8px',
        }}
      >
        {note ?? snap.text}
      </pre>
    </>
  )
}

/** The output of a job's attempts: live while the latest runs, monospace, scrolled to the newest line. */
export function JobLog({ slug, job }: { slug: string; job: JobDetail }) {
  const [chosen, setChosen] = useState<number | null>(null)
  const attempt = chosen ?? job.attempt
  const follow = job.state === 'running' && attempt === job.attempt
  const raw = logRequest(slug, job.id, { attempt })
  const attempts = Array.from({ length: Math.max(job.attempt, 0) }, (_, i) => i + 1)
  const note = job.state === 'cancelled' ? 'The job was cancelled before it started.' : 'No output yet: the log appears when the job starts.'

  return (
    <Card
      title="Log"
      extra={
        <Flex gap={8} align="center">
          {attempts.length > 1 && (
            <Select
              size="small"
              aria-label="Attempt"
              value={attempt}
              onChange={(n) => setChosen(n === job.attempt ? null : n)}
              options={attempts.map((n) => ({ value: n, label: `Attempt ${n}` }))}
              style={{ width: 120 }}
            />
          )}
          {attempt >= 1 && (
            <Button size="small" icon={<DownloadOutlined />} href={apiUrl(raw.path, raw.query)} target="_blank">
              Raw log
            </Button>
          )}
        </Flex>
      }
      styles={{ body: { padding: 0 } }}
    >
      {/* A new attempt (or one that starts running) opens its own stream. */}
      <AttemptLog key={`${job.id}:${attempt}:${attempt >= 1}`} slug={slug} jobId={job.id} attempt={attempt} follow={follow} note={note} />
    </Card>
  )
}
