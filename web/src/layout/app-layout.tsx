import { DownOutlined, LogoutOutlined, ReadOutlined, UserOutlined } from '@ant-design/icons'
import { Avatar, Button, Dropdown, Flex, Layout, Menu, Result, Tag, Typography, theme } from 'antd'
import { useQueryClient } from '@tanstack/react-query'
import { Suspense, useEffect } from 'react'
import { Link, Navigate, Outlet, useLocation, useNavigate } from 'react-router'
import { ApiError } from '../api/client'
import { useLogout, useMe } from '../auth/queries'
import { FullPageSpin } from '../app/full-page-spin'
import { ErrorState, LoadingState } from '../common/page-states'
import { currentWorkspace, rememberWorkspace, roleIn, useWorkspaceSlug } from './current-workspace'
import { navItems, selectedKey } from './nav'
import { WorkspaceSwitcher } from './workspace-switcher'

const { Header, Sider, Content } = Layout

export function Brand() {
  return (
    <Link to="/" style={{ display: 'flex', alignItems: 'center', gap: 10 }} aria-label="Dais home">
      <img src="/favicon.svg" alt="" width={28} height={28} />
      <Typography.Text strong style={{ fontSize: 18, letterSpacing: 0.3 }}>
        Dais
      </Typography.Text>
    </Link>
  )
}

/** The frame of every signed-in page: header (brand, workspace, user menu), sidebar, content. */
export default function AppLayout() {
  const me = useMe()
  const logout = useLogout()
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const location = useLocation()
  const slugInUrl = useWorkspaceSlug()
  const { token } = theme.useToken()

  useEffect(() => {
    if (slugInUrl) rememberWorkspace(slugInUrl)
  }, [slugInUrl])

  if (me.isPending) {
    return <FullPageSpin />
  }
  if (me.isError) {
    if (me.error instanceof ApiError && me.error.status === 401) {
      return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />
    }
    return <ErrorState error={me.error} onRetry={() => void me.refetch()} title="Dais cannot load your account" />
  }

  const user = me.data.user
  const slug = currentWorkspace(me.data, slugInUrl)
  const role = roleIn(me.data, slug)

  const doLogout = () =>
    logout.mutate(undefined, {
      onSettled: () => void Promise.resolve(navigate('/login', { replace: true })).then(() => queryClient.clear()),
    })

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Header
        style={{
          display: 'flex',
          alignItems: 'center',
          gap: 24,
          paddingInline: 20,
          background: token.colorBgContainer,
          borderBottom: `1px solid ${token.colorBorderSecondary}`,
        }}
      >
        <Brand />
        <WorkspaceSwitcher me={me.data} current={slug} />
        <Flex align="center" gap={12} style={{ marginLeft: 'auto' }}>
          {user.is_admin && <Tag color="gold">Platform admin</Tag>}
          <Button type="text" icon={<ReadOutlined />} href="/api/v1/docs" target="_blank">
            API
          </Button>
          <Dropdown
            trigger={['click']}
            menu={{
              items: [
                { key: 'account', icon: <UserOutlined />, label: <Link to="/account">Account</Link> },
                { type: 'divider' },
                { key: 'logout', icon: <LogoutOutlined />, label: 'Log out', onClick: doLogout },
              ],
            }}
          >
            <Button type="text" data-testid="user-menu" style={{ paddingInline: 8 }}>
              <Avatar size="small" icon={<UserOutlined />} style={{ background: token.colorPrimary }} />
              <span>{user.display_name || user.username}</span>
              <DownOutlined style={{ fontSize: 10 }} />
            </Button>
          </Dropdown>
        </Flex>
      </Header>
      <Layout hasSider>
        <div style={{ background: token.colorBgContainer, borderRight: `1px solid ${token.colorBorderSecondary}` }}>
          <Sider width={232} theme="light" style={{ position: 'sticky', top: 0, height: '100vh', overflowY: 'auto' }}>
            <Menu
              mode="inline"
              selectedKeys={[selectedKey(location.pathname)]}
              items={navItems(slug, role, user.is_admin)}
              style={{ borderInlineEnd: 'none', paddingTop: 8 }}
            />
          </Sider>
        </div>
        <Content style={{ padding: '28px 32px', minWidth: 0 }}>
          <div style={{ maxWidth: 1200, margin: '0 auto' }}>
            <Suspense fallback={<LoadingState />}>
              <Outlet />
            </Suspense>
          </div>
        </Content>
      </Layout>
    </Layout>
  )
}

export function NotFoundPage() {
  return (
    <Result
      status="404"
      title="Page not found"
      subTitle="There is nothing at this address."
      extra={
        <Link to="/">
          <Button type="primary">Go to your workspace</Button>
        </Link>
      }
    />
  )
}
