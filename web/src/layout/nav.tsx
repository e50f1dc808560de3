import {
  ApartmentOutlined,
  ApiOutlined,
  AppstoreOutlined,
  AuditOutlined,
  BellOutlined,
  ClusterOutlined,
  CodeOutlined,
  DashboardOutlined,
  DatabaseOutlined,
  ExperimentOutlined,
  FieldTimeOutlined,
  FundOutlined,
  HomeOutlined,
  ScheduleOutlined,
  TagsOutlined,
  TeamOutlined,
  UserOutlined,
} from '@ant-design/icons'
import type { MenuProps } from 'antd'
import type { ReactNode } from 'react'
import { Link } from 'react-router'
import { canManage, type Role } from '../api/types'

type Item = Required<MenuProps>['items'][number]

const AREA_ICONS: Record<string, ReactNode> = {
  data: <DatabaseOutlined />,
  labeling: <TagsOutlined />,
  pipelines: <ApartmentOutlined />,
  experiments: <ExperimentOutlined />,
  models: <AppstoreOutlined />,
  endpoints: <ApiOutlined />,
  jobs: <ScheduleOutlined />,
  notebooks: <CodeOutlined />,
}

function link(key: string, to: string, label: string, icon: ReactNode): Item {
  return { key, icon, label: <Link to={to}>{label}</Link> }
}

/** The sidebar: every area of the platform, the workspace's settings, and the platform admin pages. */
export function navItems(slug: string | null, role: Role | null, isAdmin: boolean): Item[] {
  const items: Item[] = []
  if (slug) {
    const w = `/w/${slug}`
    const area = (key: string, label: string) => link(key, `${w}/${key}`, label, AREA_ICONS[key])
    items.push(
      link('overview', w, 'Overview', <HomeOutlined />),
      { type: 'group', label: 'Data', children: [area('data', 'Data'), area('labeling', 'Labeling'), area('pipelines', 'Pipelines')] },
      {
        type: 'group',
        label: 'Models',
        children: [area('experiments', 'Training & experiments'), area('models', 'Models'), area('endpoints', 'Endpoints')],
      },
      {
        type: 'group',
        label: 'Compute',
        children: [
          area('jobs', 'Jobs'),
          link('schedules', `${w}/schedules`, 'Schedules', <FieldTimeOutlined />),
          link('notifications', `${w}/notifications`, 'Notifications', <BellOutlined />),
          link('workers', `${w}/workers`, 'Workers', <ClusterOutlined />),
          area('notebooks', 'Notebooks'),
        ],
      },
      {
        type: 'group',
        label: 'Workspace settings',
        children: [
          link('members', `${w}/settings/members`, 'Members', <TeamOutlined />),
          link('quota', `${w}/settings/quota`, 'Quota', <DashboardOutlined />),
          ...(canManage(role) || isAdmin ? [link('audit', `${w}/settings/audit`, 'Audit log', <AuditOutlined />)] : []),
        ],
      },
    )
  }
  if (isAdmin) {
    items.push({
      type: 'group',
      label: 'Platform',
      children: [
        link('admin-users', '/admin/users', 'Users', <UserOutlined />),
        link('admin-workspaces', '/admin/workspaces', 'Workspaces', <FundOutlined />),
      ],
    })
  }
  return items
}

/** The menu key for a path, so the sidebar highlights where you are. */
export function selectedKey(pathname: string): string {
  const admin = pathname.match(/^\/admin\/(users|workspaces)/)
  if (admin) return `admin-${admin[1]}`
  const settings = pathname.match(/^\/w\/[^/]+\/settings\/([^/]+)/)
  if (settings) return settings[1]
  const area = pathname.match(/^\/w\/[^/]+\/([^/]+)/)
  if (area) return area[1]
  if (/^\/w\/[^/]+\/?$/.test(pathname)) return 'overview'
  return ''
}
