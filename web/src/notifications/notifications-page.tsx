import { DeleteOutlined, PlusOutlined, SendOutlined } from '@ant-design/icons'
import { App, Button, Card, Flex, Popconfirm, Select, Switch, Table, Tabs, Tag, Typography } from 'antd'
import { useState } from 'react'
import { Link } from 'react-router'
import { errorMessage } from '../api/client'
import { canEdit, type ChannelRead, type DeliveryRead, type DeliveryState, type RuleRead } from '../api/types'
import { useMe } from '../auth/queries'
import { useCursorPages } from '../common/cursor-pages'
import { formatDate } from '../common/format'
import { EmptyState, ErrorState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useWorkspace } from '../workspaces/queries'
import { ChannelModal } from './channel-modal'
import { DELIVERY_COLORS, EVENT_COLORS, EVENT_LABELS } from './labels'
import {
  useChannels,
  useDeleteChannel,
  useDeleteRule,
  useDeliveries,
  useNotifierKinds,
  useRules,
  useTestChannel,
  useUpdateRule,
} from './queries'
import { RuleModal } from './rule-modal'

/** The one setting that says where a channel sends (a URL, recipients), for the list. */
function destination(c: ChannelRead): string {
  const cfg = c.config as Record<string, unknown>
  if (typeof cfg.url === 'string') return cfg.url
  if (Array.isArray(cfg.to)) return (cfg.to as string[]).join(', ')
  const first = Object.entries(cfg).find(([, v]) => typeof v === 'string')
  return first ? String(first[1]) : '—'
}

function Channels({ slug, editor }: { slug: string; editor: boolean }) {
  const channels = useChannels(slug)
  const kinds = useNotifierKinds()
  const test = useTestChannel(slug)
  const remove = useDeleteChannel(slug)
  const { message } = App.useApp()
  const [open, setOpen] = useState(false)
  if (channels.isError) return <ErrorState error={channels.error} onRetry={() => void channels.refetch()} />

  const columns = [
    { title: 'Channel', dataIndex: 'name', key: 'name', render: (n: string) => <Typography.Text strong>{n}</Typography.Text> },
    { title: 'Kind', dataIndex: 'kind', key: 'kind', width: 100, render: (k: string) => <Tag>{k}</Tag> },
    {
      title: 'Sends to',
      key: 'to',
      render: (_: unknown, c: ChannelRead) => (
        <Typography.Text ellipsis={{ tooltip: destination(c) }} style={{ maxWidth: 320 }}>
          {destination(c)}
        </Typography.Text>
      ),
    },
    {
      title: 'Credentials',
      key: 'secrets',
      width: 200,
      render: (_: unknown, c: ChannelRead) => {
        const set = Object.entries(c.secrets).filter(([, v]) => v)
        return set.length ? set.map(([k]) => <Tag key={k}>{k.replace(/^has_/, '')} set</Tag>) : <Typography.Text type="secondary">none</Typography.Text>
      },
    },
    { title: 'Created', key: 'created', width: 130, render: (_: unknown, c: ChannelRead) => <When at={c.created_at} /> },
    ...(editor
      ? [
          {
            title: '',
            key: 'actions',
            width: 170,
            align: 'right' as const,
            render: (_: unknown, c: ChannelRead) => (
              <Flex gap={4} justify="flex-end">
                <Button
                  size="small"
                  icon={<SendOutlined />}
                  loading={test.isPending && test.variables === c.id}
                  onClick={() =>
                    test.mutate(c.id, {
                      onSuccess: (r) =>
                        r.ok
                          ? void message.success(`Test message sent to ${c.name} (${Math.round(r.duration_ms)} ms).`)
                          : void message.error(`${c.name} did not take the test message: ${r.error ?? 'no answer'}`),
                      onError: (err) => void message.error(errorMessage(err)),
                    })
                  }
                >
                  Test
                </Button>
                <Popconfirm
                  title={`Delete ${c.name}?`}
                  description="Its rules and delivery log go with it."
                  okText="Delete"
                  okButtonProps={{ danger: true }}
                  onConfirm={() =>
                    remove.mutateAsync(c.id).then(
                      () => void message.success(`${c.name} deleted.`),
                      (err: unknown) => void message.error(errorMessage(err)),
                    )
                  }
                >
                  <Button size="small" danger type="text" icon={<DeleteOutlined />} aria-label={`Delete ${c.name}`} />
                </Popconfirm>
              </Flex>
            ),
          },
        ]
      : []),
  ]

  return (
    <>
      {editor && (
        <Flex justify="flex-end" style={{ marginBottom: 12 }}>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} disabled={!kinds.data}>
            New channel
          </Button>
        </Flex>
      )}
      <Card styles={{ body: { padding: 0 } }}>
        <Table
          rowKey="id"
          size="middle"
          columns={columns}
          dataSource={channels.data?.items}
          loading={channels.isPending}
          pagination={false}
          scroll={{ x: 900 }}
          locale={{ emptyText: <EmptyState description="No channels yet: add an email or webhook destination." /> }}
        />
      </Card>
      {editor && kinds.data && <ChannelModal slug={slug} kinds={kinds.data} open={open} onClose={() => setOpen(false)} />}
    </>
  )
}

function scopeOf(r: RuleRead): string {
  if (r.job_id) return `job ${r.job_id}`
  if (r.dag_id) return `DAG ${r.dag_id}`
  if (r.schedule_id) return `schedule ${r.schedule_id}`
  if (r.job_name_pattern) return `jobs named ${r.job_name_pattern}`
  return 'every job'
}

function Rules({ slug, editor }: { slug: string; editor: boolean }) {
  const rules = useRules(slug)
  const channels = useChannels(slug)
  const update = useUpdateRule(slug)
  const remove = useDeleteRule(slug)
  const { message } = App.useApp()
  const [open, setOpen] = useState(false)
  if (rules.isError) return <ErrorState error={rules.error} onRetry={() => void rules.refetch()} />
  const channelName = (id: string) => channels.data?.items.find((c) => c.id === id)?.name ?? id
  const fail = (err: unknown) => void message.error(errorMessage(err))

  const columns = [
    { title: 'Rule', dataIndex: 'name', key: 'name', render: (n: string) => <Typography.Text strong>{n}</Typography.Text> },
    {
      title: 'On',
      key: 'events',
      render: (_: unknown, r: RuleRead) => (
        <Flex gap={4} wrap>
          {r.events.map((e) => (
            <Tag key={e} color={EVENT_COLORS[e]}>
              {e === 'running_longer' && r.running_longer_than_s ? `running > ${r.running_longer_than_s} s` : (EVENT_LABELS[e as keyof typeof EVENT_LABELS] ?? e)}
            </Tag>
          ))}
        </Flex>
      ),
    },
    { title: 'For', key: 'scope', render: (_: unknown, r: RuleRead) => scopeOf(r) },
    { title: 'Send to', key: 'channel', render: (_: unknown, r: RuleRead) => channelName(r.channel_id) },
    {
      title: 'Enabled',
      key: 'enabled',
      width: 90,
      render: (_: unknown, r: RuleRead) => (
        <Switch
          size="small"
          checked={r.enabled}
          disabled={!editor}
          aria-label={`Enable ${r.name}`}
          onChange={(enabled) => update.mutate({ id: r.id, enabled }, { onError: fail })}
        />
      ),
    },
    ...(editor
      ? [
          {
            title: '',
            key: 'actions',
            width: 60,
            align: 'right' as const,
            render: (_: unknown, r: RuleRead) => (
              <Popconfirm
                title={`Delete ${r.name}?`}
                description="Its past deliveries stay in the log."
                okText="Delete"
                okButtonProps={{ danger: true }}
                onConfirm={() => remove.mutateAsync(r.id).then(() => void message.success(`${r.name} deleted.`), fail)}
              >
                <Button size="small" danger type="text" icon={<DeleteOutlined />} aria-label={`Delete ${r.name}`} />
              </Popconfirm>
            ),
          },
        ]
      : []),
  ]

  return (
    <>
      {editor && (
        <Flex justify="flex-end" style={{ marginBottom: 12 }}>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)}>
            New rule
          </Button>
        </Flex>
      )}
      <Card styles={{ body: { padding: 0 } }}>
        <Table
          rowKey="id"
          size="middle"
          columns={columns}
          dataSource={rules.data?.items}
          loading={rules.isPending}
          pagination={false}
          scroll={{ x: 900 }}
          locale={{ emptyText: <EmptyState description="No rules yet: nobody is told when jobs finish." /> }}
        />
      </Card>
      {editor && <RuleModal slug={slug} channels={channels.data?.items ?? []} open={open} onClose={() => setOpen(false)} />}
    </>
  )
}

function Deliveries({ slug }: { slug: string }) {
  const [state, setState] = useState<DeliveryState | undefined>()
  const pages = useCursorPages()
  const deliveries = useDeliveries(slug, state, pages.cursor)
  const channels = useChannels(slug)
  if (deliveries.isError && !deliveries.data) return <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} />
  const channelName = (id: string) => channels.data?.items.find((c) => c.id === id)?.name ?? id

  const columns = [
    { title: 'When', key: 'at', width: 150, render: (_: unknown, d: DeliveryRead) => formatDate(d.created_at) },
    { title: 'Event', dataIndex: 'event', key: 'event', width: 140, render: (e: string) => <Tag color={EVENT_COLORS[e]}>{e.replace(/_/g, ' ')}</Tag> },
    {
      title: 'Job',
      key: 'job',
      render: (_: unknown, d: DeliveryRead) =>
        d.job_id ? (
          <Link to={`/w/${slug}/jobs/${d.job_id}`}>
            <Typography.Text code style={{ fontSize: 12 }}>
              {d.job_id}
            </Typography.Text>
          </Link>
        ) : (
          '—'
        ),
    },
    { title: 'Channel', key: 'channel', render: (_: unknown, d: DeliveryRead) => channelName(d.channel_id) },
    {
      title: 'State',
      key: 'state',
      width: 110,
      render: (_: unknown, d: DeliveryRead) => (
        <Tag color={DELIVERY_COLORS[d.state]} data-testid="delivery-state">
          {d.state}
        </Tag>
      ),
    },
    { title: 'Tries', key: 'tries', width: 70, render: (_: unknown, d: DeliveryRead) => `${d.attempts}/${d.max_attempts}` },
    {
      title: 'Outcome',
      key: 'outcome',
      render: (_: unknown, d: DeliveryRead) =>
        d.state === 'sent' ? (
          <When at={d.sent_at} />
        ) : d.last_error ? (
          <Typography.Text type="danger" ellipsis={{ tooltip: d.last_error }} style={{ maxWidth: 240 }}>
            {d.last_error}
          </Typography.Text>
        ) : d.next_try_at ? (
          <span>
            next try <When at={d.next_try_at} />
          </span>
        ) : (
          '—'
        ),
    },
  ]

  return (
    <>
      <Flex style={{ marginBottom: 12 }}>
        <Select<DeliveryState>
          allowClear
          placeholder="Any state"
          aria-label="Filter deliveries by state"
          style={{ width: 180 }}
          value={state}
          onChange={(v) => {
            pages.reset()
            setState(v || undefined)
          }}
          options={(['pending', 'sent', 'failed'] as DeliveryState[]).map((s) => ({ value: s, label: s }))}
        />
      </Flex>
      <Card styles={{ body: { padding: 0 } }}>
        <Table
          rowKey="id"
          size="middle"
          columns={columns}
          dataSource={deliveries.data?.items}
          loading={deliveries.isPending}
          pagination={false}
          scroll={{ x: 900 }}
          expandable={{
            rowExpandable: (d: DeliveryRead) => (d.tries?.length ?? 0) > 0,
            expandedRowRender: (d: DeliveryRead) => (
              <Table
                rowKey="number"
                size="small"
                pagination={false}
                dataSource={d.tries}
                columns={[
                  { title: 'Try', dataIndex: 'number', key: 'n', width: 60 },
                  { title: 'At', dataIndex: 'started_at', key: 'at', width: 160, render: (t: string) => formatDate(t) },
                  { title: 'Took', dataIndex: 'duration_ms', key: 'ms', width: 90, render: (ms: number) => `${Math.round(ms)} ms` },
                  { title: 'Result', key: 'ok', render: (_: unknown, t: { ok: boolean; error: string | null }) => (t.ok ? <Tag color="success">sent</Tag> : <Typography.Text type="danger">{t.error}</Typography.Text>) },
                ]}
              />
            ),
          }}
          locale={{ emptyText: <EmptyState description={state ? `No ${state} deliveries.` : 'Nothing has been sent yet.'} /> }}
        />
      </Card>
      <Pager
        page={pages.page}
        hasPrevious={pages.hasPrevious}
        nextCursor={deliveries.data?.next_cursor}
        onPrevious={pages.previous}
        onNext={() => pages.next(deliveries.data?.next_cursor)}
      />
    </>
  )
}

/** Who is told when jobs finish: channels (email, webhooks), rules, and the log of what was sent. */
export default function NotificationsPage() {
  const slug = useWorkspaceSlug()!
  const me = useMe()
  const ws = useWorkspace(slug)
  const editor = canEdit(ws.data?.role, !!me.data?.user.is_admin)
  return (
    <>
      <PageHeader title="Notifications" subtitle="Tell people or systems when jobs succeed, fail, are cancelled or run too long." />
      <Tabs
        items={[
          { key: 'rules', label: 'Rules', children: <Rules slug={slug} editor={editor} /> },
          { key: 'channels', label: 'Channels', children: <Channels slug={slug} editor={editor} /> },
          { key: 'deliveries', label: 'Delivery log', children: <Deliveries slug={slug} /> },
        ]}
      />
    </>
  )
}
