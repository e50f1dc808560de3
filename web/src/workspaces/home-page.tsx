import { PlusOutlined } from '@ant-design/icons'
import { Button, Card, Typography } from 'antd'
import { useState } from 'react'
import { Link, Navigate, useNavigate } from 'react-router'
import { useMe } from '../auth/queries'
import { LoadingState } from '../common/page-states'
import { currentWorkspace } from '../layout/current-workspace'
import { CreateWorkspaceModal } from './create-workspace-modal'

/** `/`: go to the workspace you used last, or offer to create your first one. */
export default function HomePage() {
  const me = useMe()
  const navigate = useNavigate()
  const [creating, setCreating] = useState(false)
  if (!me.data) return <LoadingState />
  const slug = currentWorkspace(me.data, undefined)
  if (slug) return <Navigate to={`/w/${slug}`} replace />
  return (
    <Card style={{ maxWidth: 640, margin: '48px auto' }} data-testid="no-workspace">
      <Typography.Title level={3} style={{ marginTop: 0 }}>
        Welcome to Dais, {me.data.user.display_name || me.data.user.username}
      </Typography.Title>
      <Typography.Paragraph>
        Everything in Dais — data, pipelines, experiments, models and endpoints — lives in a workspace. You are not a
        member of any workspace yet: create one (you become its owner), or ask a workspace admin to add you.
      </Typography.Paragraph>
      <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
        Create a workspace
      </Button>
      {me.data.user.is_admin && (
        <Typography.Paragraph type="secondary" style={{ marginTop: 16, marginBottom: 0 }}>
          As a platform admin you can also see <Link to="/admin/workspaces">every workspace</Link> and{' '}
          <Link to="/admin/users">manage users</Link>.
        </Typography.Paragraph>
      )}
      <CreateWorkspaceModal open={creating} onClose={() => setCreating(false)} onCreated={(ws) => navigate(`/w/${ws.slug}`)} />
    </Card>
  )
}
