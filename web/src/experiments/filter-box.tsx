import { FilterOutlined } from '@ant-design/icons'
import { AutoComplete, Button, Flex, Input, Popover, Typography } from 'antd'
import { useMemo, useState } from 'react'
import type { ExperimentColumns } from './types'

const ATTRIBUTES = ['attributes.status', 'attributes.run_name', 'attributes.start_time', 'attributes.end_time', 'attributes.user_id', 'attributes.run_id']
const SNIPPETS = ["attributes.status = 'FINISHED'", "attributes.status = 'RUNNING'", "attributes.run_name LIKE '%'"]

/** `metrics.x`, back-quoted when the key needs it. */
function ref(entity: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${entity}.${key}` : `${entity}.\`${key}\``
}

function Help() {
  return (
    <div style={{ maxWidth: 440, fontSize: 13 }}>
      <Typography.Paragraph style={{ marginBottom: 8 }}>
        MLflow's search grammar: conditions joined with <Typography.Text code>AND</Typography.Text>.
      </Typography.Paragraph>
      <ul style={{ paddingLeft: 18, margin: 0, lineHeight: 1.8 }}>
        <li>
          <Typography.Text code>metrics.accuracy &gt; 0.9</Typography.Text> — the latest value; = != &lt; &lt;= &gt; &gt;=
        </li>
        <li>
          <Typography.Text code>params.lr = '0.01'</Typography.Text> — params and tags are text: = != LIKE ILIKE IN
        </li>
        <li>
          <Typography.Text code>tags.`my tag` LIKE '%x%'</Typography.Text> — back quotes around keys with spaces or dots
        </li>
        <li>
          <Typography.Text code>attributes.status IN ('FAILED', 'KILLED')</Typography.Text>
        </li>
        <li>
          <Typography.Text code>run_name ILIKE 'sweep%'</Typography.Text>, <Typography.Text code>datasets.name = 'customers'</Typography.Text>
        </li>
      </ul>
    </div>
  )
}

/**
 * The runs filter: MLflow's grammar typed as text, with the experiment's keys suggested for the
 * word being typed. Enter applies it; the server checks it and its message shows under the box.
 */
export function FilterBox({
  value,
  onApply,
  columns,
  error,
}: {
  value: string
  onApply: (filter: string) => void
  columns: ExperimentColumns | undefined
  error: string | null
}) {
  const [text, setText] = useState(value)
  const [seen, setSeen] = useState(value)
  // A filter changed from outside (the URL, a reset) replaces what is typed.
  if (seen !== value) {
    setSeen(value)
    setText(value)
  }

  const words = useMemo(
    () => [
      ...(columns?.metrics ?? []).map((k) => ref('metrics', k)),
      ...(columns?.params ?? []).map((k) => ref('params', k)),
      ...(columns?.tags ?? []).filter((k) => !k.startsWith('mlflow.log-model')).map((k) => ref('tags', k)),
      ...ATTRIBUTES,
    ],
    [columns],
  )

  // Suggest for the last word typed (after a space or an opening parenthesis).
  const match = /(^|[\s(])([^\s(]*)$/.exec(text)
  const last = match?.[2] ?? ''
  const head = text.slice(0, text.length - last.length)
  const options = useMemo(() => {
    if (!text.trim()) return SNIPPETS.map((s) => ({ value: s, label: s }))
    if (last.length < 1 || /['"]/.test(last)) return []
    const needle = last.toLowerCase()
    return words
      .filter((w) => w.toLowerCase().includes(needle) && w.toLowerCase() !== needle)
      .slice(0, 12)
      .map((w) => ({ value: `${head}${w} `, label: w }))
  }, [words, text, last, head])

  return (
    <div style={{ flex: 1, minWidth: 320 }}>
      <Flex gap={8}>
        <AutoComplete
          value={text}
          options={options}
          onChange={(v: string) => setText(v)}
          style={{ flex: 1 }}
          popupMatchSelectWidth={false}
          defaultActiveFirstOption={false}
        >
          <Input
            prefix={<FilterOutlined style={{ color: '#8c8c8c' }} />}
            placeholder="metrics.accuracy > 0.9 AND params.lr = '0.01'"
            allowClear
            onPressEnter={(e) => {
              // Enter picks a suggestion while the list is open; it applies once the text is settled.
              if (!(e.target as HTMLInputElement).getAttribute('aria-activedescendant')) onApply(text.trim())
            }}
            onClear={() => onApply('')}
            status={error ? 'error' : undefined}
            style={{ fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", fontSize: 13 }}
            aria-label="Filter runs"
            data-testid="run-filter"
          />
        </AutoComplete>
        <Button onClick={() => onApply(text.trim())} data-testid="apply-filter">
          Apply
        </Button>
        <Popover content={<Help />} title="Filtering runs" trigger="click" placement="bottomRight">
          <Button type="link" style={{ paddingInline: 4 }}>
            Syntax
          </Button>
        </Popover>
      </Flex>
      {error && (
        <Typography.Text type="danger" style={{ display: 'block', fontSize: 12, marginTop: 4 }} data-testid="filter-error">
          {error}
        </Typography.Text>
      )}
    </div>
  )
}
