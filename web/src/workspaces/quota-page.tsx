import { EditOutlined } from '@ant-design/icons'
import { App, Button, Card, Form, InputNumber, Space, Typography } from 'antd'
import { useState } from 'react'
import type { QuotaRead, QuotaUpdate } from '../api/types'
import { useMe } from '../auth/queries'
import { formatDate } from '../common/format'
import { applyFieldErrors } from '../common/form-errors'
import { ErrorState, InlineError, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useQuota, useUpdateQuota } from './queries'
import { QuotaDescriptions } from './quota-view'

type QuotaForm = Omit<QuotaUpdate, 'priority'> & { priority: number }

function QuotaEditor({ slug, quota, onDone }: { slug: string; quota: QuotaRead; onDone: () => void }) {
  const [form] = Form.useForm<QuotaForm>()
  const update = useUpdateQuota(slug)
  const { message } = App.useApp()
  const submit = (v: QuotaForm) =>
    update.mutate(
      {
        max_concurrent_jobs: v.max_concurrent_jobs ?? null,
        max_cpus: v.max_cpus ?? null,
        max_memory_mb: v.max_memory_mb ?? null,
        max_gpus: v.max_gpus ?? null,
        priority: v.priority,
      },
      {
        onSuccess: () => {
          message.success('Quota saved.')
          onDone()
        },
        onError: (err) => applyFieldErrors(form, err),
      },
    )
  const unlimited = 'Unlimited'
  return (
    <>
      <InlineError error={update.error} />
      <Form form={form} layout="vertical" initialValues={quota} onFinish={submit} style={{ maxWidth: 420 }}>
        <Form.Item name="max_concurrent_jobs" label="Concurrent jobs" extra="Leave empty for no limit.">
          <InputNumber min={0} precision={0} placeholder={unlimited} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="max_cpus" label="CPUs">
          <InputNumber min={0} step={0.5} placeholder={unlimited} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="max_memory_mb" label="Memory (MiB)">
          <InputNumber min={0} precision={0} step={1024} placeholder={unlimited} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="max_gpus" label="GPUs">
          <InputNumber min={0} precision={0} placeholder={unlimited} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item
          name="priority"
          label="Job priority"
          extra="From -100 to 100; jobs of higher-priority workspaces are scheduled first."
          rules={[{ required: true, message: 'Give a priority (0 is normal).' }]}
        >
          <InputNumber min={-100} max={100} precision={0} style={{ width: '100%' }} />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit" loading={update.isPending}>
            Save quota
          </Button>
          <Button onClick={onDone}>Cancel</Button>
        </Space>
      </Form>
    </>
  )
}

/** The workspace's resource limits and job priority; platform admins change them. */
export default function QuotaPage() {
  const slug = useWorkspaceSlug()!
  const me = useMe()
  const quota = useQuota(slug)
  const [editing, setEditing] = useState(false)
  const isAdmin = !!me.data?.user.is_admin

  if (quota.isPending) return <LoadingState />
  if (quota.isError) return <ErrorState error={quota.error} onRetry={() => void quota.refetch()} />

  return (
    <>
      <PageHeader
        title="Quota"
        subtitle="The resources this workspace's jobs may use at once, and how its jobs rank against other workspaces."
        extra={
          isAdmin && !editing ? (
            <Button icon={<EditOutlined />} onClick={() => setEditing(true)}>
              Edit quota
            </Button>
          ) : undefined
        }
      />
      <Card style={{ maxWidth: 820 }}>
        {editing ? (
          <QuotaEditor slug={slug} quota={quota.data} onDone={() => setEditing(false)} />
        ) : (
          <>
            <QuotaDescriptions quota={quota.data} />
            <Typography.Paragraph type="secondary" style={{ marginTop: 16, marginBottom: 0 }}>
              Last changed {formatDate(quota.data.updated_at)}.{' '}
              {!isAdmin && 'Only platform admins can change quotas.'}
            </Typography.Paragraph>
          </>
        )}
      </Card>
    </>
  )
}
