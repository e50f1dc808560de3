import { DeleteOutlined, UserAddOutlined } from '@ant-design/icons'
import { App, Button, Card, Form, Input, Popconfirm, Select, Table, Tag, Typography } from 'antd'
import type { MemberCreate, MemberRead } from '../api/types'
import { canManage, ROLE_HELP, ROLES } from '../api/types'
import { useMe } from '../auth/queries'
import { useCursorPages } from '../common/cursor-pages'
import { applyFieldErrors } from '../common/form-errors'
import { EmptyState, ErrorState, InlineError } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { Pager } from '../common/pager'
import { When } from '../common/when'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { errorMessage } from '../api/client'
import { useAddMember, useMembers, useRemoveMember, useUpdateMember, useWorkspace } from './queries'

const roleOptions = ROLES.map((r) => ({ value: r, label: r, title: ROLE_HELP[r] }))

function AddMemberForm({ slug }: { slug: string }) {
  const [form] = Form.useForm<MemberCreate>()
  const add = useAddMember(slug)
  const { message } = App.useApp()
  const submit = (values: MemberCreate) =>
    add.mutate(values, {
      onSuccess: (m) => {
        message.success(`${m.username} is now ${m.role} of this workspace.`)
        form.resetFields()
      },
      onError: (err) => applyFieldErrors(form, err),
    })
  return (
    <Card size="small" title="Add a member" style={{ marginBottom: 16 }}>
      <InlineError error={add.error} />
      <Form form={form} layout="inline" onFinish={submit} initialValues={{ role: 'viewer' }} style={{ rowGap: 8 }}>
        <Form.Item name="username" rules={[{ required: true, message: 'Enter a username.' }]}>
          <Input placeholder="Username" style={{ width: 220 }} aria-label="Username to add" />
        </Form.Item>
        <Form.Item name="role">
          <Select options={roleOptions} style={{ width: 150 }} aria-label="Role" />
        </Form.Item>
        <Form.Item>
          <Button type="primary" htmlType="submit" icon={<UserAddOutlined />} loading={add.isPending}>
            Add member
          </Button>
        </Form.Item>
      </Form>
    </Card>
  )
}

/** Who belongs to the workspace and with which role; admins and owners change it. */
export default function MembersPage() {
  const slug = useWorkspaceSlug()!
  const me = useMe()
  const ws = useWorkspace(slug)
  const pages = useCursorPages()
  const members = useMembers(slug, pages.cursor)
  const update = useUpdateMember(slug)
  const remove = useRemoveMember(slug)
  const { message } = App.useApp()
  const manage = canManage(ws.data?.role) || !!me.data?.user.is_admin

  const changeRole = (m: MemberRead, role: MemberRead['role']) =>
    update.mutate(
      { username: m.username, role },
      {
        onSuccess: () => message.success(`${m.username} is now ${role}.`),
        onError: (err) => message.error(errorMessage(err)),
      },
    )

  if (ws.isError) return <ErrorState error={ws.error} onRetry={() => void ws.refetch()} />

  const columns = [
    {
      title: 'Member',
      key: 'user',
      render: (_: unknown, m: MemberRead) => (
        <>
          <Typography.Text strong>{m.username}</Typography.Text>
          {m.display_name && <Typography.Text type="secondary"> · {m.display_name}</Typography.Text>}
          {m.username === me.data?.user.username && <Tag style={{ marginLeft: 8 }}>you</Tag>}
        </>
      ),
    },
    {
      title: 'Role',
      key: 'role',
      width: 200,
      render: (_: unknown, m: MemberRead) =>
        manage ? (
          <Select
            value={m.role}
            options={roleOptions}
            style={{ width: 150 }}
            onChange={(role) => changeRole(m, role)}
            aria-label={`Role of ${m.username}`}
            data-testid={`role-${m.username}`}
          />
        ) : (
          <Tag>{m.role}</Tag>
        ),
    },
    { title: 'Member since', key: 'since', width: 180, render: (_: unknown, m: MemberRead) => <When at={m.created_at} /> },
    ...(manage
      ? [
          {
            title: '',
            key: 'actions',
            width: 110,
            align: 'right' as const,
            render: (_: unknown, m: MemberRead) => (
              <Popconfirm
                title={`Remove ${m.username}?`}
                description="They lose access to everything in this workspace."
                okText="Remove"
                okButtonProps={{ danger: true }}
                onConfirm={() =>
                  remove.mutateAsync(m.username).then(
                    () => void message.success(`${m.username} was removed.`),
                    (err: unknown) => void message.error(errorMessage(err)),
                  )
                }
              >
                <Button danger type="text" icon={<DeleteOutlined />} aria-label={`Remove ${m.username}`}>
                  Remove
                </Button>
              </Popconfirm>
            ),
          },
        ]
      : []),
  ]

  return (
    <>
      <PageHeader
        title="Members"
        subtitle={
          manage
            ? 'Add people to this workspace and choose what each may do.'
            : 'People in this workspace. Only workspace admins and owners can change members.'
        }
      />
      {manage && <AddMemberForm slug={slug} />}
      {members.isError ? (
        <ErrorState error={members.error} onRetry={() => void members.refetch()} />
      ) : (
        <Card styles={{ body: { padding: 0 } }}>
          <Table
            rowKey="id"
            columns={columns}
            dataSource={members.data?.items}
            loading={members.isPending || members.isPlaceholderData}
            pagination={false}
            locale={{ emptyText: <EmptyState description="No members yet." /> }}
          />
        </Card>
      )}
      <Pager
        page={pages.page}
        hasPrevious={pages.hasPrevious}
        nextCursor={members.data?.next_cursor}
        onPrevious={pages.previous}
        onNext={() => pages.next(members.data?.next_cursor)}
      />
    </>
  )
}
