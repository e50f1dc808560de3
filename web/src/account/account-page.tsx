import { Card, Col, Descriptions, Flex, Row, Tag } from 'antd'
import { useMe } from '../auth/queries'
import { formatDate } from '../common/format'
import { ErrorState, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { PasswordCard } from './password-card'
import { TokensCard } from './tokens-card'

/** Your profile, your password and your API tokens. */
export default function AccountPage() {
  const me = useMe()
  if (me.isPending) return <LoadingState />
  if (me.isError) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />
  const u = me.data.user
  return (
    <>
      <PageHeader title="Account" subtitle="Your profile, password and API tokens." />
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={14}>
          <Card title="Profile" style={{ height: '100%' }}>
            <Descriptions
              column={1}
              size="small"
              items={[
                { key: 'username', label: 'Username', children: u.username },
                { key: 'name', label: 'Display name', children: u.display_name || '—' },
                { key: 'email', label: 'Email', children: u.email || '—' },
                {
                  key: 'kind',
                  label: 'Account',
                  children: (
                    <Flex gap={6} wrap>
                      {u.is_admin ? <Tag color="gold">Platform admin</Tag> : <Tag>User</Tag>}
                      <Tag>signs in with {u.provider === 'local' ? 'a password' : u.provider}</Tag>
                    </Flex>
                  ),
                },
                { key: 'created', label: 'Created', children: formatDate(u.created_at) },
                { key: 'login', label: 'Last login', children: formatDate(u.last_login_at) },
                {
                  key: 'workspaces',
                  label: 'Workspaces',
                  children: me.data.workspaces.length
                    ? (
                        <Flex gap={6} wrap>
                          {me.data.workspaces.map((w) => (
                            <Tag key={w.slug}>
                              {w.slug} · {w.role}
                            </Tag>
                          ))}
                        </Flex>
                      )
                    : 'None yet',
                },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <PasswordCard local={u.provider === 'local'} />
        </Col>
        <Col xs={24}>
          <TokensCard workspaces={me.data.workspaces} />
        </Col>
      </Row>
    </>
  )
}
