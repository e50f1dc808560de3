import { LeftOutlined, RightOutlined } from '@ant-design/icons'
import { Button, Flex, Typography } from 'antd'

/** "Previous / Next" for cursor-paginated tables. */
export function Pager({
  page,
  hasPrevious,
  nextCursor,
  onPrevious,
  onNext,
}: {
  page: number
  hasPrevious: boolean
  nextCursor: string | null | undefined
  onPrevious: () => void
  onNext: () => void
}) {
  if (!hasPrevious && !nextCursor) return null
  return (
    <Flex justify="flex-end" align="center" gap={8} style={{ marginTop: 16 }}>
      <Typography.Text type="secondary">Page {page}</Typography.Text>
      <Button icon={<LeftOutlined />} disabled={!hasPrevious} onClick={onPrevious}>
        Previous
      </Button>
      <Button disabled={!nextCursor} onClick={onNext}>
        Next <RightOutlined />
      </Button>
    </Flex>
  )
}
