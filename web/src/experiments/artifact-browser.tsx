import { DownloadOutlined, FileOutlined, FileImageOutlined, FileTextOutlined, FolderOutlined, HomeOutlined } from '@ant-design/icons'
import { useQuery } from '@tanstack/react-query'
import { Breadcrumb, Button, Card, Col, Empty, Flex, Row, Spin, Table, Typography } from 'antd'
import { useState } from 'react'
import { errorMessage } from '../api/client'
import { bytes } from '../data/format'
import { EmptyState, ErrorState } from '../common/page-states'
import { WhenMs } from './parts'
import { artifactHead, artifactUrl, experimentKeys, useArtifacts } from './queries'
import type { RunArtifact } from './types'

/** Most bytes a text preview reads (a range request: the rest stays on the server). */
const PREVIEW_BYTES = 256 * 1024
const IMAGE = /\.(png|jpe?g|gif|webp|svg|bmp)$/i
const TEXT = /(\.(txt|log|json|jsonl|ya?ml|csv|tsv|md|py|cfg|ini|toml|xml|html?|sh|r|sql)$)|(^|\/)(MLmodel|requirements\.txt|conda\.yaml|python_env\.yaml|Dockerfile|LICENSE)$/i

function name(path: string): string {
  return path.split('/').pop() ?? path
}

function icon(a: RunArtifact) {
  if (a.is_dir) return <FolderOutlined style={{ color: '#d48806' }} />
  if (IMAGE.test(a.path)) return <FileImageOutlined style={{ color: '#08979c' }} />
  if (TEXT.test(a.path)) return <FileTextOutlined style={{ color: '#1668dc' }} />
  return <FileOutlined style={{ color: '#8c8c8c' }} />
}

function pretty(path: string, text: string, truncated: boolean): string {
  if (!truncated && /\.json$/i.test(path)) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      return text
    }
  }
  return text
}

function Preview({ slug, run, file }: { slug: string; run: string; file: RunArtifact }) {
  const image = IMAGE.test(file.path)
  const text = !image && (TEXT.test(file.path) || (file.size ?? 0) <= 64 * 1024)
  const head = useQuery({
    queryKey: [...experimentKeys.artifacts(slug, run, file.path), 'head'],
    queryFn: ({ signal }) => artifactHead(slug, run, file.path, PREVIEW_BYTES, signal),
    enabled: text,
    staleTime: 60_000,
  })
  const url = artifactUrl(slug, run, file.path)
  let body
  if (image) body = <img src={url} alt={file.path} style={{ maxWidth: '100%', maxHeight: 520, display: 'block', margin: '0 auto' }} data-testid="artifact-image" />
  else if (!text) body = <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="No preview for this kind of file: download it." />
  else if (head.isPending) body = <Spin />
  else if (head.isError) body = <Typography.Text type="danger">{errorMessage(head.error)}</Typography.Text>
  else {
    const binary = head.data.text.includes('\u0000')
    body = binary ? (
      <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="A binary file: download it." />
    ) : (
      <>
        <pre
          data-testid="artifact-preview"
          style={{ margin: 0, maxHeight: 520, overflow: 'auto', fontSize: 12, lineHeight: 1.5, background: '#fafafa', border: '1px solid #f0f0f0', borderRadius: 6, padding: 12, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
        >
          {pretty(file.path, head.data.text, head.data.truncated)}
        </pre>
        {head.data.truncated && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            The first {bytes(PREVIEW_BYTES)} of {bytes(file.size ?? 0)}; download the file for all of it.
          </Typography.Text>
        )}
      </>
    )
  }
  return (
    <Card
      size="small"
      title={<Typography.Text ellipsis={{ tooltip: file.path }}>{file.path}</Typography.Text>}
      extra={
        <Button size="small" icon={<DownloadOutlined />} href={url} download={name(file.path)}>
          Download
        </Button>
      }
      data-testid="artifact-file"
    >
      <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12, marginBottom: 8 }}>
        {file.size !== null && file.size !== undefined ? bytes(file.size) : ''}
        {file.modified ? <> · <WhenMs ms={file.modified} /></> : null}
      </Typography.Text>
      {body}
    </Card>
  )
}

/** A run's artifacts: folders to walk through, a preview of text and images, downloads. */
export function ArtifactBrowser({ slug, run }: { slug: string; run: string }) {
  const [path, setPath] = useState('')
  const [file, setFile] = useState<RunArtifact | null>(null)
  const listing = useArtifacts(slug, run, path)
  if (listing.isError) return <ErrorState error={listing.error} onRetry={() => void listing.refetch()} />
  const parts = path ? path.split('/') : []
  const items = [...(listing.data?.items ?? [])].sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path))
  if (!path && listing.data && items.length === 0)
    return <EmptyState description="This run has no artifacts. Files logged with mlflow.log_artifact(s), and the model packages of Dais's presets, appear here." />
  return (
    <Row gutter={16}>
      <Col xs={24} lg={10}>
        <Breadcrumb
          style={{ marginBottom: 8 }}
          items={[
            { title: <a onClick={() => setPath('')} aria-label="Artifacts root"><HomeOutlined /></a> },
            ...parts.map((p, i) => ({ title: i === parts.length - 1 ? p : <a onClick={() => setPath(parts.slice(0, i + 1).join('/'))}>{p}</a> })),
          ]}
        />
        <Table<RunArtifact>
          rowKey="path"
          size="small"
          loading={listing.isPending || (listing.isFetching && listing.isPlaceholderData)}
          dataSource={items}
          pagination={items.length > 100 ? { pageSize: 100, size: 'small' } : false}
          onRow={(a) => ({
            onClick: () => (a.is_dir ? setPath(a.path) : setFile(a)),
            style: { cursor: 'pointer', background: file?.path === a.path ? '#e6f4ff' : undefined },
          })}
          columns={[
            {
              title: 'Name',
              key: 'name',
              render: (_: unknown, a: RunArtifact) => (
                <Flex gap={8} align="center">
                  {icon(a)}
                  <Typography.Text ellipsis style={{ maxWidth: 260 }} data-testid="artifact-entry">
                    {name(a.path)}
                  </Typography.Text>
                </Flex>
              ),
            },
            { title: 'Size', key: 'size', width: 90, align: 'right', render: (_: unknown, a: RunArtifact) => (a.is_dir ? '' : bytes(a.size ?? 0)) },
          ]}
          data-testid="artifact-list"
        />
      </Col>
      <Col xs={24} lg={14}>
        {file ? (
          <Preview key={file.path} slug={slug} run={run} file={file} />
        ) : (
          <Card size="small">
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="Pick a file to preview it." />
          </Card>
        )}
      </Col>
    </Row>
  )
}
