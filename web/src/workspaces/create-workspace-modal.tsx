import { Form, Input, Modal } from 'antd'
import type { WorkspaceCreate, WorkspaceRead } from '../api/types'
import { applyFieldErrors } from '../common/form-errors'
import { InlineError } from '../common/page-states'
import { useCreateWorkspace } from './queries'

/** Create a workspace; the creator becomes its owner. */
export function CreateWorkspaceModal({
  open,
  onClose,
  onCreated,
}: {
  open: boolean
  onClose: () => void
  onCreated?: (ws: WorkspaceRead) => void
}) {
  const [form] = Form.useForm<WorkspaceCreate>()
  const create = useCreateWorkspace()

  const close = () => {
    form.resetFields()
    create.reset()
    onClose()
  }

  const submit = (values: WorkspaceCreate) =>
    create.mutate(
      { slug: values.slug, name: values.name || undefined, description: values.description ?? '' },
      {
        onSuccess: (ws) => {
          close()
          onCreated?.(ws)
        },
        onError: (err) => applyFieldErrors(form, err),
      },
    )

  return (
    <Modal
      title="New workspace"
      open={open}
      onCancel={close}
      okText="Create workspace"
      onOk={() => form.submit()}
      confirmLoading={create.isPending}
      destroyOnHidden
    >
      <InlineError error={create.error} />
      <Form form={form} layout="vertical" onFinish={submit} requiredMark="optional">
        <Form.Item
          name="slug"
          label="Slug"
          extra="Used in URLs and the CLI: lower-case letters, digits and dashes."
          rules={[
            { required: true, message: 'Give the workspace a slug.' },
            { pattern: /^[a-z0-9][a-z0-9-]{0,62}$/, message: 'Lower-case letters, digits and dashes; starts with a letter or digit.' },
          ]}
        >
          <Input placeholder="fraud-detection" autoFocus />
        </Form.Item>
        <Form.Item name="name" label="Name">
          <Input placeholder="Fraud detection" maxLength={128} />
        </Form.Item>
        <Form.Item name="description" label="Description">
          <Input.TextArea rows={3} maxLength={4000} />
        </Form.Item>
      </Form>
    </Modal>
  )
}
