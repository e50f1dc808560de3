import { PlusOutlined } from '@ant-design/icons'
import { App, Button, Card, Checkbox, Form, Input, Modal, Popconfirm, Space, Table, Tag, Typography } from 'antd'
import { useState } from 'react'
import { errorMessage } from '../api/client'
import type { UserCreate, UserRead, UserUpdate } from '../api/types'
import { useMe } from '../auth/queries'
import { useCursorPages } from '../common/cursor-pages'
import { applyFieldErrors } from '../common/form-errors'
import { EmptyState, ErrorState, InlineError } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { useCreateUser, useUpdateUser, useUsers } from './queries'

function CreateUserModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [form] = Form.useForm<UserCreate>()
  const create = useCreateUser()
  const { message } = App.useApp()
  const close = () => {
    form.resetFields()
    create.reset()
    onClose()
  }
  const submit = (v: UserCreate) =>
    create.mutate(
      { ...v, email: v.email || null, display_name: v.display_name || null, is_admin: !!v.is_admin },
      {
        onSuccess: (u) => {
          message.success(`User ${u.username} was created.`)
          close()
        },
        onError: (err) => applyFieldErrors(form, err),
      },
    )
  return (
    <Modal title="New user" open={open} onCancel={close} onOk={() => form.submit()} okText="Create user" confirmLoading={create.isPending} destroyOnHidden>
      <InlineError error={create.error} />
      <Form form={form} layout="vertical" onFinish={submit} requiredMark="optional">
        <Form.Item
          name="username"
          label="Username"
          rules={[
            { required: true, message: 'Enter a username.' },
            { pattern: /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, message: "Letters, digits, '_', '.', '@' and '-'." },
          ]}
        >
          <Input autoFocus autoComplete="off" />
        </Form.Item>
        <Form.Item
          name="password"
          label="Password"
          extra="At least 8 characters. Leave empty for a user who signs in with a one-time link only."
          rules={[{ min: 8, message: 'At least 8 characters.' }]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="display_name" label="Display name">
          <Input maxLength={128} />
        </Form.Item>
        <Form.Item name="email" label="Email" rules={[{ type: 'email', message: 'Not an email address.' }]}>
          <Input />
        </Form.Item>
        <Form.Item name="is_admin" valuePropName="checked">
          <Checkbox>Platform admin (manages users, workspaces and quotas)</Checkbox>
        </Form.Item>
      </Form>
    </Modal>
  )
}

/** Every user of the platform (platform admins only). */
export default function UsersPage() {
  const me = useMe()
  const [q, setQ] = useState<string>()
  const [creating, setCreating] = useState(false)
  const pages = useCursorPages()
  const users = useUsers(q, pages.cursor)
  const update = useUpdateUser()
  const { message } = App.useApp()

  const change = (u: UserRead, body: UserUpdate, done: string) =>
    update.mutateAsync({ username: u.username, body }).then(
      () => void message.success(done),
      (err: unknown) => void message.error(errorMessage(err)),
    )

  const columns = [
    {
      title: 'User',
      key: 'user',
      render: (_: unknown, u: UserRead) => (
        <>
          <Typography.Text strong>{u.username}</Typography.Text>
          {u.display_name && <Typography.Text type="secondary"> · {u.display_name}</Typography.Text>}
          {u.username === me.data?.user.username && <Tag style={{ marginLeft: 8 }}>you</Tag>}
        </>
      ),
    },
    { title: 'Email', key: 'email', render: (_: unknown, u: UserRead) => u.email ?? '—' },
    {
      title: 'Status',
      key: 'status',
      render: (_: unknown, u: UserRead) => (
        <Space size={4}>
          {u.is_active ? <Tag color="green">active</Tag> : <Tag>deactivated</Tag>}
          {u.is_admin && <Tag color="gold">admin</Tag>}
        </Space>
      ),
    },
    { title: 'Last login', key: 'login', render: (_: unknown, u: UserRead) => <When at={u.last_login_at} empty="never" /> },
    {
      title: '',
      key: 'actions',
      align: 'right' as const,
      render: (_: unknown, u: UserRead) => (
        <Space size={0}>
          <Popconfirm
            title={u.is_admin ? `Remove admin rights from ${u.username}?` : `Make ${u.username} a platform admin?`}
            description={u.is_admin ? undefined : 'Platform admins manage every user, workspace and quota.'}
            onConfirm={() =>
              change(u, { is_admin: !u.is_admin }, u.is_admin ? `${u.username} is no longer an admin.` : `${u.username} is now an admin.`)
            }
          >
            <Button type="text">{u.is_admin ? 'Remove admin' : 'Make admin'}</Button>
          </Popconfirm>
          <Popconfirm
            title={u.is_active ? `Deactivate ${u.username}?` : `Reactivate ${u.username}?`}
            description={u.is_active ? 'They can no longer log in, and their tokens stop working.' : undefined}
            okButtonProps={{ danger: u.is_active }}
            okText={u.is_active ? 'Deactivate' : 'Reactivate'}
            onConfirm={() =>
              change(u, { is_active: !u.is_active }, u.is_active ? `${u.username} was deactivated.` : `${u.username} was reactivated.`)
            }
          >
            <Button type="text" danger={u.is_active}>
              {u.is_active ? 'Deactivate' : 'Reactivate'}
            </Button>
          </Popconfirm>
        </Space>
      ),
    },
  ]

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Everyone who can log in to this Dais."
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            New user
          </Button>
        }
      />
      <Input.Search
        placeholder="Search by username, name or email"
        allowClear
        onSearch={(v) => {
          pages.reset()
          setQ(v.trim() || undefined)
        }}
        style={{ maxWidth: 360, marginBottom: 16 }}
        aria-label="Search users"
      />
      {users.isError ? (
        <ErrorState error={users.error} onRetry={() => void users.refetch()} />
      ) : (
        <Card styles={{ body: { padding: 0 } }}>
          <Table
            rowKey="id"
            columns={columns}
            dataSource={users.data?.items}
            loading={users.isPending || users.isPlaceholderData}
            pagination={false}
            scroll={{ x: 800 }}
            locale={{ emptyText: <EmptyState description={q ? `No user matches “${q}”.` : 'No users yet.'} /> }}
          />
        </Card>
      )}
      <Pager
        page={pages.page}
        hasPrevious={pages.hasPrevious}
        nextCursor={users.data?.next_cursor}
        onPrevious={pages.previous}
        onNext={() => pages.next(users.data?.next_cursor)}
      />
      <CreateUserModal open={creating} onClose={() => setCreating(false)} />
    </>
  )
}
