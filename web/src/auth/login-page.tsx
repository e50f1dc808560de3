import { LockOutlined, UserOutlined } from '@ant-design/icons'
import { Alert, Button, Card, Flex, Form, Input, Typography, theme } from 'antd'
import { useNavigate, useSearchParams } from 'react-router'
import { errorMessage } from '../api/client'
import type { LoginRequest } from '../api/types'
import { useLogin } from './queries'

/** Where to go after logging in: only a path inside the UI, never another site. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/'
}

export default function LoginPage() {
  const [params] = useSearchParams()
  const navigate = useNavigate()
  const login = useLogin()
  const { token } = theme.useToken()
  const linkExpired = params.get('link') === 'expired'

  const submit = (values: LoginRequest) =>
    login.mutate(values, { onSuccess: () => navigate(safeNext(params.get('next')), { replace: true }) })

  return (
    <Flex vertical align="center" justify="center" style={{ minHeight: '100vh', background: token.colorBgLayout, padding: 24 }}>
      <Flex align="center" gap={12} style={{ marginBottom: 24 }}>
        <img src="/favicon.svg" alt="" width={40} height={40} />
        <Typography.Title level={2} style={{ margin: 0 }}>
          Dais
        </Typography.Title>
      </Flex>
      <Card style={{ width: '100%', maxWidth: 380 }}>
        <Typography.Title level={4} style={{ marginTop: 0 }}>
          Log in
        </Typography.Title>
        {linkExpired && !login.error && (
          <Alert
            type="warning"
            showIcon
            style={{ marginBottom: 16 }}
            title="This login link has expired or was already used. Log in with your password, or ask for a new link."
            data-testid="link-expired"
          />
        )}
        {login.error && (
          <Alert type="error" showIcon style={{ marginBottom: 16 }} title={errorMessage(login.error)} data-testid="login-error" />
        )}
        <Form layout="vertical" onFinish={submit} requiredMark={false} disabled={login.isPending}>
          <Form.Item name="username" label="Username" rules={[{ required: true, message: 'Enter your username.' }]}>
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item name="password" label="Password" rules={[{ required: true, message: 'Enter your password.' }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={login.isPending}>
            Log in
          </Button>
        </Form>
      </Card>
      <Typography.Text type="secondary" style={{ marginTop: 16, fontSize: 13 }}>
        An end-to-end machine-learning platform.
      </Typography.Text>
    </Flex>
  )
}
