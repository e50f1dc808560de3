import { ClockCircleOutlined } from '@ant-design/icons'
import { Card, Tag, Typography } from 'antd'
import { useParams } from 'react-router'
import { ErrorState } from '../common/page-states'
import { PageHeader } from '../common/page-header'
import { areaByKey } from './areas'

/** An area of the platform that is not built yet: what it will do, and nothing made up. */
export default function ComingPage() {
  const { area = '' } = useParams()
  const info = areaByKey(area)
  if (!info) return <ErrorState error={new Error(`There is no area called “${area}”.`)} title="Not found" />
  return (
    <>
      <PageHeader
        title={
          <>
            {info.title} <Tag icon={<ClockCircleOutlined />} color="default" style={{ verticalAlign: 'middle' }}>Coming</Tag>
          </>
        }
        subtitle={info.summary}
      />
      <Card title="What this area will do" style={{ maxWidth: 820 }} data-testid="coming">
        <ul style={{ margin: 0, paddingLeft: 20, lineHeight: 1.9 }}>
          {info.plans.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
        <Typography.Paragraph type="secondary" style={{ marginTop: 16, marginBottom: 0 }}>
          This area is not available yet in this version of Dais. Nothing here is stored or shown until it is.
        </Typography.Paragraph>
      </Card>
    </>
  )
}
