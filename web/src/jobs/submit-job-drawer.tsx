import { SendOutlined } from '@ant-design/icons'
import { App, Button, Drawer, Flex, Form } from 'antd'
import type { JobRead } from '../api/types'
import { InlineError, LoadingState } from '../common/page-states'
import { findKind, JOB_DEFAULTS, JOB_FIELD_NAMES, type JobFormValues, jobSubmitFromValues, kindFields, showFieldErrors } from './job-form'
import { JobFormFields } from './job-form-fields'
import { useJobKinds, useSubmitJob } from './queries'

/** Submit a job: pick a kind, fill in its spec (a form drawn from the kind's schema) and resources. */
export function SubmitJobDrawer({
  slug,
  open,
  onClose,
  onSubmitted,
}: {
  slug: string
  open: boolean
  onClose: () => void
  onSubmitted: (job: JobRead) => void
}) {
  const [form] = Form.useForm<JobFormValues>()
  const kinds = useJobKinds()
  const submit = useSubmitJob(slug)
  const { message } = App.useApp()
  const kindName = Form.useWatch('kind', form)

  const finish = (values: JobFormValues) => {
    let body
    try {
      body = jobSubmitFromValues(values, kinds.data)
    } catch (err) {
      form.setFields([{ name: 'spec_json', errors: [`Not valid JSON: ${(err as Error).message}`] }])
      return
    }
    submit.mutate(body, {
      onSuccess: (job) => {
        message.success(`Job ${job.name} submitted.`)
        form.resetFields()
        submit.reset()
        onSubmitted(job)
      },
      onError: (err) => showFieldErrors(form, err, JOB_FIELD_NAMES, kindFields(findKind(kinds.data, values.kind))),
    })
  }

  return (
    <Drawer
      title="Submit a job"
      open={open}
      onClose={onClose}
      size={560}
      footer={
        <Flex justify="flex-end" gap={8}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="primary" icon={<SendOutlined />} loading={submit.isPending} onClick={() => form.submit()} disabled={!kindName}>
            Submit job
          </Button>
        </Flex>
      }
    >
      {kinds.isPending ? (
        <LoadingState label="Loading job kinds…" />
      ) : kinds.isError ? (
        <InlineError error={kinds.error} />
      ) : (
        <Form form={form} layout="vertical" initialValues={JOB_DEFAULTS} onFinish={finish} requiredMark="optional">
          <InlineError error={submit.error} />
          <JobFormFields kinds={kinds.data} onKindChange={() => submit.reset()} />
        </Form>
      )}
    </Drawer>
  )
}
