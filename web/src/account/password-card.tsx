import { App, Button, Card, Form, Input, Typography } from 'antd'
import { useChangePassword } from '../auth/queries'
import { applyFieldErrors } from '../common/form-errors'
import { InlineError } from '../common/page-states'

interface PasswordForm {
  current_password: string
  new_password: string
  confirm: string
}

export function PasswordCard({ local }: { local: boolean }) {
  const [form] = Form.useForm<PasswordForm>()
  const change = useChangePassword()
  const { message } = App.useApp()
  const submit = (v: PasswordForm) =>
    change.mutate(
      { current_password: v.current_password, new_password: v.new_password },
      {
        onSuccess: () => {
          message.success('Your password was changed.')
          form.resetFields()
        },
        onError: (err) => applyFieldErrors(form, err),
      },
    )
  return (
    <Card title="Change password" style={{ height: '100%' }}>
      {!local && (
        <Typography.Paragraph type="secondary">
          Your account signs in through an external identity provider; change your password there.
        </Typography.Paragraph>
      )}
      <InlineError error={change.error} />
      <Form form={form} layout="vertical" onFinish={submit} disabled={!local} requiredMark={false}>
        <Form.Item name="current_password" label="Current password" rules={[{ required: true, message: 'Enter your current password.' }]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Form.Item
          name="new_password"
          label="New password"
          rules={[
            { required: true, message: 'Enter a new password.' },
            { min: 8, message: 'At least 8 characters.' },
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label="Repeat the new password"
          dependencies={['new_password']}
          rules={[
            { required: true, message: 'Repeat the new password.' },
            ({ getFieldValue }) => ({
              validator: (_, value) =>
                !value || value === getFieldValue('new_password')
                  ? Promise.resolve()
                  : Promise.reject(new Error('The two passwords differ.')),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={change.isPending}>
          Change password
        </Button>
      </Form>
    </Card>
  )
}
