import { DatabaseOutlined, LinkOutlined } from '@ant-design/icons'
import { Tabs } from 'antd'
import { useNavigate } from 'react-router'
import { connectionsPath, dataPath } from './links'

/** The two lists of the data area: datasets and the connections they are read through. */
export function DataTabs({ slug, active }: { slug: string; active: 'datasets' | 'connections' }) {
  const navigate = useNavigate()
  return (
    <Tabs
      activeKey={active}
      onChange={(key) => navigate(key === 'connections' ? connectionsPath(slug) : dataPath(slug))}
      style={{ marginTop: -12 }}
      items={[
        { key: 'datasets', label: 'Datasets', icon: <DatabaseOutlined /> },
        { key: 'connections', label: 'Connections', icon: <LinkOutlined /> },
      ]}
    />
  )
}
