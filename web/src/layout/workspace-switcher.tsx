import { PlusOutlined } from '@ant-design/icons'
import { Button, Divider, Select, Tag } from 'antd'
import { useState } from 'react'
import { useLocation, useNavigate } from 'react-router'
import type { Me } from '../api/types'
import { CreateWorkspaceModal } from '../workspaces/create-workspace-modal'
import { rememberWorkspace } from './current-workspace'

/** Pick the workspace; the choice lives in the URL (`/w/:workspace/...`) and stays on the same page. */
export function WorkspaceSwitcher({ me, current }: { me: Me; current: string | null }) {
  const navigate = useNavigate()
  const { pathname } = useLocation()
  const [creating, setCreating] = useState(false)

  const go = (slug: string) => {
    rememberWorkspace(slug)
    const rest = pathname.match(/^\/w\/[^/]+(\/.*)?$/)?.[1] ?? ''
    navigate(`/w/${slug}${rest}`)
  }

  const options = me.workspaces.map((w) => ({
    value: w.slug,
    label: (
      <span style={{ display: 'flex', justifyContent: 'space-between', gap: 8 }}>
        <span style={{ overflow: 'hidden', textOverflow: 'ellipsis' }}>{w.name}</span>
        <Tag style={{ marginInlineEnd: 0 }}>{w.role}</Tag>
      </span>
    ),
    name: w.name,
    slug: w.slug,
  }))
  if (current && !me.workspaces.some((w) => w.slug === current)) {
    options.unshift({ value: current, label: <span>{current}</span>, name: current, slug: current })
  }

  return (
    <>
      <Select
        aria-label="Workspace"
        data-testid="workspace-switcher"
        style={{ width: 240 }}
        placeholder="No workspace yet"
        value={current ?? undefined}
        options={options}
        optionLabelProp="name"
        labelRender={(o) => <span>{(options.find((x) => x.value === o.value)?.name ?? o.value) as string}</span>}
        onChange={go}
        showSearch={{ optionFilterProp: 'slug' }}
        notFoundContent="You are not a member of any workspace yet."
        popupRender={(menu) => (
          <>
            {menu}
            <Divider style={{ margin: '4px 0' }} />
            <Button type="text" block icon={<PlusOutlined />} onClick={() => setCreating(true)} style={{ textAlign: 'left' }}>
              New workspace
            </Button>
          </>
        )}
      />
      <CreateWorkspaceModal open={creating} onClose={() => setCreating(false)} onCreated={(ws) => go(ws.slug)} />
    </>
  )
}
