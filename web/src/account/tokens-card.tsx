import { KeyOutlined, PlusOutlined } from '@ant-design/icons'
import { Alert, App, Button, Card, Form, Input, Modal, Popconfirm, Select, Space, Switch, Table, Tag, Typography } from 'antd'
import { useState } from 'react'
import { errorMessage } from '../api/client'
import type { MembershipBrief, TokenCreated, TokenRead } from '../api/types'
import { useCursorPages } from '../common/cursor-pages'
import { isPast } from '../common/format'
import { applyFieldErrors } from '../common/form-errors'
import { EmptyState, ErrorState, InlineError } from '../common/page-states'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { useCreateToken, useRevokeToken, useTokens } from './queries'

interface TokenForm {
  name: string
  workspace: string
  expiry: string
}

const EXPIRY = [
  { value: '7', label: '7 days' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: 'never', label: 'Never' },
]
const ALL = '*'

function CreateTokenModal({
  open,
  workspaces,
  onClose,
  onCreated,
}: {
  open: boolean
  workspaces: MembershipBrief[]
  onClose: () => void
  onCreated: (t: TokenCreated) => void
}) {
  const [form] = Form.useForm<TokenForm>()
  const create = useCreateToken()
  const close = () => {
    form.resetFields()
    create.reset()
    onClose()
  }
  const submit = (v: TokenForm) =>
    create.mutate(
      {
        name: v.name.trim(),
        workspace: v.workspace === ALL ? null : v.workspace,
        expires_in_days: v.expiry === 'never' ? null : Number(v.expiry),
      },
      {
        onSuccess: (t) => {
          close()
          onCreated(t)
        },
        onError: (err) => applyFieldErrors(form, err),
      },
    )
  return (
    <Modal
      title="New API token"
      open={open}
      onCancel={close}
      onOk={() => form.submit()}
      okText="Create token"
      confirmLoading={create.isPending}
      destroyOnHidden
    >
      <InlineError error={create.error} />
      <Form form={form} layout="vertical" onFinish={submit} initialValues={{ workspace: ALL, expiry: '90' }} requiredMark={false}>
        <Form.Item name="name" label="Name" rules={[{ required: true, whitespace: true, message: 'Name the token, e.g. after where it is used.' }]}>
          <Input placeholder="laptop CLI" maxLength={128} autoFocus />
        </Form.Item>
        <Form.Item name="workspace" label="Workspace" extra="A token limited to one workspace cannot reach the others.">
          <Select
            aria-label="Token workspace"
            options={[
              { value: ALL, label: 'All my workspaces' },
              ...workspaces.map((w) => ({ value: w.slug, label: `${w.name} (${w.slug})` })),
            ]}
          />
        </Form.Item>
        <Form.Item name="expiry" label="Expires after">
          <Select options={EXPIRY} aria-label="Token expiry" />
        </Form.Item>
      </Form>
    </Modal>
  )
}

function SecretModal({ token, onClose }: { token: TokenCreated | null; onClose: () => void }) {
  return (
    <Modal
      title="Copy your new token"
      open={!!token}
      onCancel={onClose}
      footer={
        <Button type="primary" onClick={onClose}>
          I have stored it
        </Button>
      }
      maskClosable={false}
    >
      <Alert
        type="warning"
        showIcon
        style={{ marginBottom: 16 }}
        title="This is the only time the token is shown. Store it somewhere safe now."
      />
      <Typography.Paragraph
        copyable={{ text: token?.token ?? '', tooltips: ['Copy', 'Copied'] }}
        code
        style={{ wordBreak: 'break-all', fontSize: 13 }}
        data-testid="token-secret"
      >
        {token?.token}
      </Typography.Paragraph>
      <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
        Use it as <Typography.Text code>Authorization: Bearer &lt;token&gt;</Typography.Text> with the API, or with the
        CLI and SDK.
      </Typography.Paragraph>
    </Modal>
  )
}

function status(t: TokenRead) {
  if (t.revoked_at) return <Tag color="red">revoked</Tag>
  if (isPast(t.expires_at)) return <Tag color="orange">expired</Tag>
  return <Tag color="green">active</Tag>
}

/** Your API tokens: create one (its secret is shown once), see when each was last used, revoke. */
export function TokensCard({ workspaces }: { workspaces: MembershipBrief[] }) {
  const [showRevoked, setShowRevoked] = useState(false)
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<TokenCreated | null>(null)
  const pages = useCursorPages()
  const tokens = useTokens(showRevoked, pages.cursor)
  const revoke = useRevokeToken()
  const { message } = App.useApp()

  const columns = [
    {
      title: 'Name',
      key: 'name',
      render: (_: unknown, t: TokenRead) => (
        <Space size={6}>
          <Typography.Text strong>{t.name}</Typography.Text>
          <Typography.Text type="secondary" code>
            {t.prefix}…
          </Typography.Text>
        </Space>
      ),
    },
    {
      title: 'Workspace',
      key: 'workspace',
      render: (_: unknown, t: TokenRead) => t.workspace_slug ?? <Typography.Text type="secondary">all</Typography.Text>,
    },
    { title: 'Status', key: 'status', render: (_: unknown, t: TokenRead) => status(t) },
    { title: 'Created', key: 'created', render: (_: unknown, t: TokenRead) => <When at={t.created_at} /> },
    { title: 'Expires', key: 'expires', render: (_: unknown, t: TokenRead) => <When at={t.expires_at} empty="never" /> },
    {
      title: 'Last used',
      key: 'used',
      render: (_: unknown, t: TokenRead) => (
        <>
          <When at={t.last_used_at} empty="never" />
          {t.last_used_ip && <Typography.Text type="secondary"> from {t.last_used_ip}</Typography.Text>}
        </>
      ),
    },
    {
      title: '',
      key: 'actions',
      align: 'right' as const,
      render: (_: unknown, t: TokenRead) =>
        t.revoked_at ? null : (
          <Popconfirm
            title={`Revoke “${t.name}”?`}
            description="Anything using this token stops working at once."
            okText="Revoke"
            okButtonProps={{ danger: true }}
            onConfirm={() =>
              revoke.mutateAsync(t.id).then(
                () => void message.success(`Token “${t.name}” was revoked.`),
                (err: unknown) => void message.error(errorMessage(err)),
              )
            }
          >
            <Button danger type="text" aria-label={`Revoke ${t.name}`}>
              Revoke
            </Button>
          </Popconfirm>
        ),
    },
  ]

  return (
    <Card
      title={
        <Space>
          <KeyOutlined /> API tokens
        </Space>
      }
      extra={
        <Space size={16}>
          <Space size={6}>
            <Switch
              size="small"
              checked={showRevoked}
              onChange={(v) => {
                pages.reset()
                setShowRevoked(v)
              }}
              aria-label="Show revoked tokens"
            />
            <Typography.Text type="secondary">Show revoked</Typography.Text>
          </Space>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            New token
          </Button>
        </Space>
      }
      styles={{ body: { padding: tokens.isError ? undefined : 0 } }}
    >
      {tokens.isError ? (
        <ErrorState error={tokens.error} onRetry={() => void tokens.refetch()} />
      ) : (
        <Table
          rowKey="id"
          columns={columns}
          dataSource={tokens.data?.items}
          loading={tokens.isPending || tokens.isPlaceholderData}
          pagination={false}
          scroll={{ x: 800 }}
          locale={{
            emptyText: (
              <EmptyState description="No API tokens yet. Create one to use the CLI, the SDK or the API from scripts." />
            ),
          }}
        />
      )}
      <div style={{ paddingInline: 16 }}>
        <Pager
          page={pages.page}
          hasPrevious={pages.hasPrevious}
          nextCursor={tokens.data?.next_cursor}
          onPrevious={pages.previous}
          onNext={() => pages.next(tokens.data?.next_cursor)}
        />
      </div>
      <CreateTokenModal open={creating} workspaces={workspaces} onClose={() => setCreating(false)} onCreated={setCreated} />
      <SecretModal token={created} onClose={() => setCreated(null)} />
    </Card>
  )
}
