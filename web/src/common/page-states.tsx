import { Alert, Button, Empty, Flex, Result, Spin, Typography } from 'antd'
import type { ReactNode } from 'react'
import { ApiError, errorMessage } from '../api/client'

/** What a page shows while its data loads. */
export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <Flex justify="center" align="center" style={{ padding: 64 }} data-testid="loading">
      <Spin description={label} />
    </Flex>
  )
}

/** What a page shows when its data could not be read: the API's own message, and a way to retry. */
export function ErrorState({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const status = error instanceof ApiError ? error.status : 0
  const requestId = error instanceof ApiError ? error.requestId : null
  const heading = title ?? (status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Something went wrong')
  return (
    <Result
      status={status === 403 ? '403' : status === 404 ? '404' : 'warning'}
      title={heading}
      subTitle={<span data-testid="error-detail">{errorMessage(error)}</span>}
      extra={
        <Flex vertical align="center" gap={8}>
          {onRetry && status !== 403 && status !== 404 && <Button onClick={onRetry}>Try again</Button>}
          {requestId && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              Request id: <Typography.Text code copyable style={{ fontSize: 12 }}>{requestId}</Typography.Text>
            </Typography.Text>
          )}
        </Flex>
      }
    />
  )
}

/** An error that belongs inside a form or card rather than replacing the page. */
export function InlineError({ error }: { error: unknown }) {
  if (!error) return null
  return <Alert type="error" showIcon title={errorMessage(error)} data-testid="inline-error" style={{ marginBottom: 16 }} />
}

export function EmptyState({ description, children }: { description: ReactNode; children?: ReactNode }) {
  return (
    <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={description} style={{ padding: '24px 0' }}>
      {children}
    </Empty>
  )
}
