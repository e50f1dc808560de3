import { PlayCircleOutlined } from '@ant-design/icons'
import { Card, Flex, Modal, Select, Spin, Tag, Tooltip, Typography } from 'antd'
import { useState } from 'react'
import { useCursorPages } from '../common/cursor-pages'
import { EmptyState, ErrorState } from '../common/page-states'
import { Pager } from '../common/pager'
import { bytes } from './format'
import { mediaUrl, useMedia } from './queries'
import type { MediaRead } from './types'

const VIDEO = /^(mp4|webm|mov|m4v|mkv|avi|ogv)$/i

function isVideo(m: MediaRead): boolean {
  return m.duration_s !== null || VIDEO.test(m.format ?? '') || VIDEO.test(m.path.split('.').pop() ?? '')
}

function fileName(path: string): string {
  return path.split('/').pop() ?? path
}

function Thumbnail({ slug, dataset, item, onOpen }: { slug: string; dataset: string; item: MediaRead; onOpen: () => void }) {
  const [state, setState] = useState<'loading' | 'ok' | 'error'>('loading')
  return (
    <Card
      hoverable
      size="small"
      onClick={onOpen}
      styles={{ body: { padding: 8 } }}
      data-testid="gallery-item"
      cover={
        <div
          style={{
            height: 150,
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'center',
            background: '#f5f5f5',
            position: 'relative',
            overflow: 'hidden',
          }}
        >
          {state === 'loading' && <Spin size="small" style={{ position: 'absolute' }} />}
          {state === 'error' ? (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              No preview
            </Typography.Text>
          ) : (
            <img
              src={mediaUrl(slug, dataset, item.id, 'thumbnail')}
              alt={item.path}
              loading="lazy"
              onLoad={() => setState('ok')}
              onError={() => setState('error')}
              style={{
                width: '100%',
                height: '100%',
                objectFit: 'contain',
                // Small images (8×8 digits, icons) are scaled up, sharp rather than blurred.
                imageRendering: (item.width ?? 999) < 128 ? 'pixelated' : 'auto',
              }}
              data-testid="thumbnail"
            />
          )}
          {isVideo(item) && <PlayCircleOutlined style={{ position: 'absolute', fontSize: 32, color: 'rgba(255,255,255,0.9)' }} />}
        </div>
      }
    >
      <Tooltip title={item.path}>
        <Typography.Text ellipsis style={{ fontSize: 12, display: 'block' }}>
          {fileName(item.path)}
        </Typography.Text>
      </Tooltip>
      <Flex justify="space-between" align="center" style={{ marginTop: 2 }}>
        {item.label ? <Tag style={{ fontSize: 11, marginInlineEnd: 0 }}>{item.label}</Tag> : <span />}
        <Typography.Text type="secondary" style={{ fontSize: 11 }}>
          {item.width && item.height ? `${item.width}×${item.height}` : bytes(item.size)}
        </Typography.Text>
      </Flex>
    </Card>
  )
}

/** The items of an image or video dataset: thumbnails through the API, filter by label, open one whole. */
export function Gallery({ slug, dataset }: { slug: string; dataset: string }) {
  const [label, setLabel] = useState<string | undefined>(undefined)
  const pages = useCursorPages()
  const media = useMedia(slug, dataset, label, pages.cursor)
  // The label counts come with the first page of the unfiltered list (cached, so asked once).
  const first = useMedia(slug, dataset, undefined, undefined)
  const [open, setOpen] = useState<MediaRead | null>(null)
  const labelOptions = Object.entries(first.data?.labels ?? {}).sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))

  if (media.isError && !media.data) return <ErrorState error={media.error} onRetry={() => void media.refetch()} />
  return (
    <>
      <Flex gap={12} align="center" style={{ marginBottom: 16 }} wrap>
        <Select<string>
          allowClear
          placeholder="Any label"
          aria-label="Filter by label"
          data-testid="label-filter"
          style={{ width: 220 }}
          value={label}
          onChange={(v) => {
            pages.reset()
            setLabel(v || undefined)
          }}
          options={labelOptions.map(([name, n]) => ({ value: name, label: `${name} (${n.toLocaleString()})` }))}
        />
        {media.isFetching && <Spin size="small" />}
      </Flex>
      {media.isPending ? (
        <Flex justify="center" style={{ padding: 48 }}>
          <Spin />
        </Flex>
      ) : media.data.items.length === 0 ? (
        <EmptyState description={label ? `No items labelled “${label}”.` : 'This dataset has no media items.'} />
      ) : (
        <div
          style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(160px, 1fr))', gap: 12 }}
          data-testid="gallery"
        >
          {media.data.items.map((m) => (
            <Thumbnail key={m.id} slug={slug} dataset={dataset} item={m} onOpen={() => setOpen(m)} />
          ))}
        </div>
      )}
      <Pager
        page={pages.page}
        hasPrevious={pages.hasPrevious}
        nextCursor={media.data?.next_cursor}
        onPrevious={pages.previous}
        onNext={() => pages.next(media.data?.next_cursor)}
      />
      <Modal
        open={!!open}
        onCancel={() => setOpen(null)}
        footer={null}
        width={900}
        title={open ? fileName(open.path) : ''}
        destroyOnHidden
        centered
      >
        {open && (
          <Flex vertical align="center" gap={12} data-testid="media-viewer">
            {isVideo(open) ? (
              <video src={mediaUrl(slug, dataset, open.id, 'content')} controls autoPlay style={{ maxWidth: '100%', maxHeight: '70vh' }} />
            ) : (
              <img
                src={mediaUrl(slug, dataset, open.id, 'content')}
                alt={open.path}
                style={{
                  maxWidth: '100%',
                  maxHeight: '70vh',
                  minWidth: (open.width ?? 999) < 128 ? 256 : undefined,
                  imageRendering: (open.width ?? 999) < 128 ? 'pixelated' : 'auto',
                  objectFit: 'contain',
                }}
                data-testid="media-full"
              />
            )}
            <Typography.Text type="secondary">
              {open.path} · {bytes(open.size)}
              {open.width && open.height ? ` · ${open.width}×${open.height}` : ''}
              {open.duration_s ? ` · ${open.duration_s.toFixed(1)} s` : ''}
              {open.label ? ` · label ${open.label}` : ''}
            </Typography.Text>
          </Flex>
        )}
      </Modal>
    </>
  )
}
