import { ArrowRightOutlined, TeamOutlined } from '@ant-design/icons'
import { Card, Col, Descriptions, Row, Skeleton, Statistic, Tag, Typography } from 'antd'
import { Link } from 'react-router'
import { ROLE_HELP } from '../api/types'
import { AREAS } from '../areas/areas'
import { formatDate } from '../common/format'
import { ErrorState, InlineError, LoadingState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useMemberCount, useQuota, useWorkspace } from './queries'
import { QuotaDescriptions } from './quota-view'

/** A workspace at a glance: what it is, your role, its members and its quota. */
export default function OverviewPage() {
  const slug = useWorkspaceSlug()!
  const ws = useWorkspace(slug)
  const members = useMemberCount(slug)
  const quota = useQuota(slug)

  if (ws.isPending) return <LoadingState />
  if (ws.isError) return <ErrorState error={ws.error} onRetry={() => void ws.refetch()} />
  const w = ws.data

  return (
    <>
      <PageHeader title={w.name} subtitle={w.description || 'No description yet.'} />
      <Row gutter={[16, 16]}>
        <Col xs={24} md={8}>
          <Card title="Your role" style={{ height: '100%' }} data-testid="your-role">
            {w.role ? (
              <>
                <Tag color="blue" style={{ fontSize: 14, padding: '2px 10px' }}>
                  {w.role}
                </Tag>
                <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }}>
                  {ROLE_HELP[w.role]}.
                </Typography.Paragraph>
              </>
            ) : (
              <Typography.Text type="secondary">Not a member — you see this workspace as a platform admin.</Typography.Text>
            )}
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card title="Members" style={{ height: '100%' }} extra={<Link to={`/w/${slug}/settings/members`}>Manage</Link>}>
            {members.isPending ? (
              <Skeleton active paragraph={false} />
            ) : members.isError ? (
              <InlineError error={members.error} />
            ) : (
              <Statistic
                value={members.data.count}
                suffix={members.data.more ? '+' : undefined}
                prefix={<TeamOutlined />}
                data-testid="member-count"
              />
            )}
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card title="Details" style={{ height: '100%' }}>
            <Descriptions
              column={1}
              size="small"
              items={[
                { key: 'slug', label: 'Slug', children: <Typography.Text code>{w.slug}</Typography.Text> },
                { key: 'created', label: 'Created', children: formatDate(w.created_at) },
                { key: 'updated', label: 'Updated', children: formatDate(w.updated_at) },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24}>
          <Card title="Quota" extra={<Link to={`/w/${slug}/settings/quota`}>Details</Link>}>
            {quota.isPending ? (
              <Skeleton active paragraph={{ rows: 2 }} />
            ) : quota.isError ? (
              <InlineError error={quota.error} />
            ) : (
              <QuotaDescriptions quota={quota.data} column={5} />
            )}
          </Card>
        </Col>
        <Col xs={24}>
          <Card title="Areas of this workspace">
            <Row gutter={[16, 16]}>
              {AREAS.map((a) => (
                <Col xs={24} sm={12} lg={6} key={a.key}>
                  <Link to={`/w/${slug}/${a.key}`} style={{ color: 'inherit' }}>
                    <Card size="small" hoverable style={{ height: '100%' }}>
                      <Typography.Text strong>
                        {a.title} <ArrowRightOutlined style={{ fontSize: 11 }} />
                      </Typography.Text>
                      <Typography.Paragraph type="secondary" style={{ margin: '6px 0 0', fontSize: 13 }}>
                        {a.summary}
                      </Typography.Paragraph>
                      {a.available ? (
                        <Tag color="green" style={{ marginTop: 8 }}>
                          Available
                        </Tag>
                      ) : (
                        <Tag style={{ marginTop: 8 }}>Coming</Tag>
                      )}
                    </Card>
                  </Link>
                </Col>
              ))}
            </Row>
          </Card>
        </Col>
      </Row>
    </>
  )
}
