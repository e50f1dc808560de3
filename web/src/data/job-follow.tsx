import { Alert, Flex, Typography } from 'antd'
import { useEffect, useRef } from 'react'
import { Link } from 'react-router'
import type { JobDetail } from '../api/types'
import { ErrorState } from '../common/page-states'
import { useJob } from '../jobs/queries'
import { JobProgress, StateTag } from '../jobs/state-tag'

/**
 * A data job (register, refresh, materialise) followed live: its state, progress and message, then
 * its error if it failed. `onDone` runs once when it has finished.
 */
export function JobFollow({ slug, jobId, title, onDone }: { slug: string; jobId: string; title: string; onDone?: (job: JobDetail) => void }) {
  const job = useJob(slug, jobId)
  const state = job.data?.state
  const finished = state === 'succeeded' || state === 'failed' || state === 'cancelled' || state === 'upstream_failed'

  const notified = useRef(false)
  useEffect(() => {
    if (finished && job.data && !notified.current) {
      notified.current = true
      onDone?.(job.data)
    }
  }, [finished, job.data, onDone])

  if (job.isError) return <ErrorState error={job.error} onRetry={() => void job.refetch()} />
  return (
    <div data-testid="job-follow" data-state={state ?? 'loading'}>
      <Flex align="center" gap={12} style={{ marginBottom: 8 }}>
        <Typography.Text strong>{title}</Typography.Text>
        {job.data && <StateTag state={job.data.state} />}
        <Link to={`/w/${slug}/jobs/${jobId}`} style={{ marginLeft: 'auto' }}>
          Open the job
        </Link>
      </Flex>
      {job.data && (
        <>
          <JobProgress job={job.data} size="default" />
          <Typography.Text type="secondary" data-testid="job-follow-message">
            {job.data.progress_message ?? (finished ? '' : 'Waiting for a worker…')}
          </Typography.Text>
          {(state === 'failed' || state === 'upstream_failed' || state === 'cancelled') && (
            <Alert
              type="error"
              showIcon
              style={{ marginTop: 12 }}
              title={state === 'cancelled' ? 'The job was cancelled' : 'The job failed'}
              description={<pre style={{ margin: 0, whiteSpace: 'pre-wrap', fontSize: 12 }}>{job.data.error ?? 'No error message.'}</pre>}
              data-testid="job-follow-error"
            />
          )}
        </>
      )}
    </div>
  )
}
