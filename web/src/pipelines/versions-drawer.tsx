import { Button, Drawer, List, Tag, Typography } from 'antd'
import { EmptyState, ErrorState, LoadingState } from '../common/page-states'
import { When } from '../common/when'
import { useVersions } from './queries'

/** The pipeline's saved versions, newest first; one can be loaded onto the canvas. */
export function VersionsDrawer({
  open,
  slug,
  pipeline,
  current,
  shown,
  loading,
  onClose,
  onLoad,
}: {
  open: boolean
  slug: string
  pipeline: string
  current: number
  shown: number | null
  loading: number | null
  onClose: () => void
  onLoad: (n: number) => void
}) {
  const versions = useVersions(slug, pipeline, open)
  let body
  if (versions.isPending) body = <LoadingState />
  else if (versions.isError) body = <ErrorState error={versions.error} onRetry={() => void versions.refetch()} />
  else if (!versions.data.items.length) body = <EmptyState description="No saved versions yet." />
  else
    body = (
      <List
        dataSource={versions.data.items}
        renderItem={(v) => (
          <List.Item
            data-testid={`version-${v.number}`}
            actions={[
              <Button key="load" size="small" onClick={() => onLoad(v.number)} loading={loading === v.number} disabled={shown === v.number}>
                {shown === v.number ? 'On canvas' : 'Load'}
              </Button>,
            ]}
          >
            <List.Item.Meta
              title={
                <span>
                  Version {v.number} {v.number === current && <Tag color="blue">current</Tag>}
                </span>
              }
              description={
                <>
                  <div>{v.message || <Typography.Text type="secondary">No message</Typography.Text>}</div>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {v.nodes} nodes · <When at={v.created_at} />
                  </Typography.Text>
                </>
              }
            />
          </List.Item>
        )}
      />
    )
  return (
    <Drawer title="Version history" open={open} onClose={onClose} size={440}>
      <Typography.Paragraph type="secondary">
        Every save is a new version. Load an older one to look at it, or save it again to make it current.
      </Typography.Paragraph>
      {body}
    </Drawer>
  )
}
