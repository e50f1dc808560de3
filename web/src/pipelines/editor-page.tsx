import {
  AppstoreAddOutlined,
  ArrowLeftOutlined,
  BugOutlined,
  CaretRightOutlined,
  CheckCircleFilled,
  CloseCircleFilled,
  FunctionOutlined,
  HistoryOutlined,
  LoadingOutlined,
  SaveOutlined,
  StopOutlined,
  UnorderedListOutlined,
} from '@ant-design/icons'
import {
  addEdge,
  Background,
  type Connection,
  Controls,
  type Edge,
  type FinalConnectionState,
  MiniMap,
  Panel,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesState,
  useReactFlow,
} from '@xyflow/react'
import '@xyflow/react/dist/style.css'
import { App, Alert, Button, Flex, Input, Modal, Space, Tag, Tooltip, Typography } from 'antd'
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { Link, useBlocker, useNavigate, useParams, useSearchParams } from 'react-router'
import { canEdit } from '../api/types'
import { errorMessage } from '../api/client'
import { useMe } from '../auth/queries'
import { ErrorState, LoadingState } from '../common/page-states'
import { useWorkspaceSlug } from '../layout/current-workspace'
import { useWorkspace } from '../workspaces/queries'
import { EditorContext, type EditorView } from './editor-context'
import { DRAG_TYPE } from './families'
import { connectionProblem, flowEdge, graphText, newNodeId, type OpNode, toFlow, toGraph, validationText } from './graph'
import { NodeForm } from './node-form'
import { NodePanel } from './node-panel'
import { NODE_WIDTH, OperatorNode } from './operator-node'
import { Palette } from './palette'
import {
  useCancelRun,
  useLoadVersion,
  useOperators,
  usePipeline,
  useRun,
  useSaveVersion,
  useStartRun,
  useValidation,
} from './queries'
import { RunModal } from './run-modal'
import { RunsDrawer } from './runs-drawer'
import { isRunActive, nodeLook, PORT_TYPES, portColour, runLook, seconds } from './status'
import type { GraphVariable, OperatorRead, PipelineDetail, PipelineRunCreate, TableSchema, PipelineIssue } from './types'
import { VariablesDrawer } from './variables-drawer'
import { VersionsDrawer } from './versions-drawer'

const nodeTypes = { op: OperatorNode }
const VALIDATE_DELAY_MS = 500
const EDITOR_HEIGHT = 'calc(100vh - 205px)'

function useDebounced<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value)
  useEffect(() => {
    const t = setTimeout(() => setShown(value), ms)
    return () => clearTimeout(t)
  }, [value, ms])
  return shown
}

function ValidationBadge({ pending, error, count, hasNodes }: { pending: boolean; error: unknown; count: number; hasNodes: boolean }) {
  if (!hasNodes) return null
  if (error)
    return (
      <Tooltip title={errorMessage(error)}>
        <Tag color="warning">not checked</Tag>
      </Tooltip>
    )
  if (pending) return <Tag icon={<LoadingOutlined />}>checking</Tag>
  return count ? (
    <Tag color="error" icon={<CloseCircleFilled />} data-testid="validation-state">
      {count} {count === 1 ? 'error' : 'errors'}
    </Tag>
  ) : (
    <Tag color="success" icon={<CheckCircleFilled />} data-testid="validation-state">
      valid
    </Tag>
  )
}

function Editor({ detail, operators }: { detail: PipelineDetail; operators: OperatorRead[] }) {
  const slug = useWorkspaceSlug()!
  const { message, modal } = App.useApp()
  const navigate = useNavigate()
  const me = useMe()
  const ws = useWorkspace(slug)
  const editor = canEdit(ws.data?.role, !!me.data?.user.is_admin)
  const readOnly = !editor
  const name = detail.name
  const ops = useMemo(() => new Map(operators.map((o) => [o.id, o])), [operators])
  const { screenToFlowPosition } = useReactFlow()
  const canvasRef = useRef<HTMLDivElement>(null)

  const initial = useMemo(() => toFlow(detail.graph, ops), [detail.graph, ops])
  const [nodes, setNodes, onNodesChange] = useNodesState<OpNode>(initial.nodes)
  const [edges, setEdges, onEdgesChange] = useEdgesState<Edge>(initial.edges)
  const [variables, setVariables] = useState<GraphVariable[]>(detail.graph.variables ?? [])
  const [savedText, setSavedText] = useState(() => graphText(toGraph(initial.nodes, initial.edges, detail.graph.variables ?? [])))
  const [currentVersion, setCurrentVersion] = useState(detail.current_version)
  const [shownVersion, setShownVersion] = useState<number | null>(detail.current_version)
  const [generation, setGeneration] = useState(0)
  const [selected, setSelected] = useState<string | null>(null)
  const [paletteOpen, setPaletteOpen] = useState(true)
  const [drawer, setDrawer] = useState<'variables' | 'versions' | 'runs' | null>(null)
  const [saving, setSaving] = useState(false)
  const [saveMessage, setSaveMessage] = useState('')
  const [runMode, setRunMode] = useState<'full' | 'debug' | null>(null)
  const [fromNode, setFromNode] = useState<string | null>(null)
  const [search, setSearch] = useSearchParams()
  const runId = search.get('run')

  const graph = useMemo(() => toGraph(nodes, edges, variables), [nodes, edges, variables])
  const dirty = graphText(graph) !== savedText

  // Unsaved work is not lost by a click elsewhere in the app, nor by closing the tab.
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname)
  useEffect(() => {
    if (blocker.state !== 'blocked') return
    modal.confirm({
      title: 'Leave without saving?',
      content: 'The canvas has changes that are not saved as a version.',
      okText: 'Leave',
      okButtonProps: { danger: true },
      onOk: () => blocker.proceed(),
      onCancel: () => blocker.reset(),
    })
  }, [blocker, modal])
  useEffect(() => {
    if (!dirty) return
    const warn = (e: BeforeUnloadEvent) => e.preventDefault()
    window.addEventListener('beforeunload', warn)
    return () => window.removeEventListener('beforeunload', warn)
  }, [dirty])
  const vText = validationText(graph)
  // Validation follows the canvas after a pause; moving a node (same key) does not check again.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const latest = useMemo(() => ({ graph, key: vText }), [vText])
  const toCheck = useDebounced(latest, VALIDATE_DELAY_MS)
  const validation = useValidation(slug, toCheck.graph, toCheck.key)
  const validating = toCheck.key !== vText || validation.isFetching

  const issues = useMemo(() => {
    const byNode = new Map<string, PipelineIssue[]>()
    for (const e of validation.data?.errors ?? []) if (e.node_id) byNode.set(e.node_id, [...(byNode.get(e.node_id) ?? []), e])
    return byNode
  }, [validation.data])
  const graphIssues = (validation.data?.errors ?? []).filter((e) => !e.node_id)

  const run = useRun(slug, name, runId)
  const runActive = !!run.data && isRunActive(run.data.status)
  const nodeRuns = useMemo(() => new Map((run.data?.nodes ?? []).map((n) => [n.node_id, n])), [run.data])

  const view: EditorView = useMemo(() => ({ operators: ops, issues, nodeRuns }), [ops, issues, nodeRuns])

  // Edges into a running node move; edges out of a failed or skipped one fade.
  const shownEdges = useMemo(
    () =>
      edges.map((e) => {
        const status = nodeRuns.get(e.target)?.status
        return status === 'running' ? { ...e, animated: true } : e.animated ? { ...e, animated: false } : e
      }),
    [edges, nodeRuns],
  )

  const selectedNode = nodes.find((n) => n.id === selected) ?? null
  const selectedSchemas = useMemo(() => {
    if (!selectedNode) return {}
    const op = ops.get(selectedNode.data.operator)
    const out: Record<string, TableSchema | null | undefined> = {}
    for (const p of op?.inputs ?? []) {
      const edge = edges.find((e) => e.target === selectedNode.id && e.targetHandle === p.name)
      out[p.name] = edge ? validation.data?.schemas[edge.source]?.[edge.sourceHandle ?? 'out'] : undefined
    }
    return out
  }, [selectedNode, ops, edges, validation.data])

  const problemOf = useCallback((c: Connection | Edge) => connectionProblem(c, nodes, edges, ops), [nodes, edges, ops])

  const onConnect = useCallback(
    (c: Connection) => {
      const problem = problemOf(c)
      if (problem) {
        void message.warning(problem)
        return
      }
      const type = ops.get(nodes.find((n) => n.id === c.source)?.data.operator ?? '')?.outputs.find((p) => p.name === c.sourceHandle)?.type
      setEdges((es) => addEdge(flowEdge({ source: c.source, sourceHandle: c.sourceHandle ?? 'out', target: c.target, targetHandle: c.targetHandle ?? 'in' }, type), es))
    },
    [problemOf, message, ops, nodes, setEdges],
  )

  const onConnectEnd = useCallback(
    (_: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid !== false || !state.fromHandle || !state.toHandle) return
      const fromSource = state.fromHandle.type === 'source'
      const [src, tgt] = fromSource ? [state.fromHandle, state.toHandle] : [state.toHandle, state.fromHandle]
      const problem = problemOf({ source: src.nodeId, sourceHandle: src.id ?? null, target: tgt.nodeId, targetHandle: tgt.id ?? null })
      if (problem) void message.warning(problem)
    },
    [problemOf, message],
  )

  const addOperator = useCallback(
    (op: OperatorRead, at?: { x: number; y: number }) => {
      let position = at
      if (!position) {
        // In the middle of what the canvas shows, stepped aside from nodes already there.
        const box = canvasRef.current?.getBoundingClientRect()
        const centre = box ? screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : { x: 0, y: 0 }
        position = { x: centre.x - NODE_WIDTH / 2, y: centre.y - 40 }
        const taken = (p: { x: number; y: number }) => nodes.some((n) => Math.abs(n.position.x - p.x) < 20 && Math.abs(n.position.y - p.y) < 20)
        for (let i = 0; i < 50 && taken(position); i++) position = { x: position.x + 30, y: position.y + 90 }
      }
      const id = newNodeId(op.id, new Set(nodes.map((n) => n.id)))
      setNodes((ns) => [
        ...ns.map((n) => (n.selected ? { ...n, selected: false } : n)),
        { id, type: 'op', position, selected: true, data: { operator: op.id, version: op.version, params: {}, label: null } },
      ])
      setSelected(id)
    },
    [nodes, setNodes, screenToFlowPosition],
  )

  const onDrop = useCallback(
    (e: DragEvent) => {
      e.preventDefault()
      const opId = e.dataTransfer.getData(DRAG_TYPE)
      const op = ops.get(opId)
      if (!op || readOnly) return
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY })
      addOperator(op, { x: p.x - NODE_WIDTH / 2, y: p.y - 20 })
    },
    [ops, readOnly, screenToFlowPosition, addOperator],
  )

  const updateNode = (id: string, patch: Partial<OpNode['data']>) =>
    setNodes((ns) => ns.map((n) => (n.id === id ? { ...n, data: { ...n.data, ...patch } } : n)))

  const deleteNode = (id: string) => {
    setNodes((ns) => ns.filter((n) => n.id !== id))
    setEdges((es) => es.filter((e) => e.source !== id && e.target !== id))
    setSelected(null)
  }

  const save = useSaveVersion(slug, name)
  const startRun = useStartRun(slug, name)
  const cancel = useCancelRun(slug, name)
  const loadVersion = useLoadVersion(slug, name)

  const doSave = (msg: string, then?: (version: number) => void) => {
    const g = graph
    save.mutate(
      { graph: g, message: msg },
      {
        onSuccess: (v) => {
          setSavedText(graphText(g))
          setCurrentVersion(v.number)
          setShownVersion(v.number)
          setSaving(false)
          setSaveMessage('')
          if (then) then(v.number)
          else void message.success(v.number === currentVersion ? 'Nothing changed since the last version.' : `Saved as version ${v.number}.`)
        },
        onError: (err) => void message.error(errorMessage(err)),
      },
    )
  }

  const showRun = (id: string | null) => {
    const next = new URLSearchParams(search)
    if (id) next.set('run', id)
    else next.delete('run')
    setSearch(next, { replace: true })
  }

  const doRun = (body: PipelineRunCreate) => {
    const go = (version: number) =>
      startRun.mutate(
        { ...body, version },
        {
          onSuccess: (r) => {
            setRunMode(null)
            setFromNode(null)
            showRun(r.id)
            void message.info(`${body.mode === 'debug' ? 'Debug run' : 'Run'} started.`)
          },
        },
      )
    if (dirty) doSave(body.mode === 'debug' ? 'Saved for a debug run' : 'Saved for a run', go)
    else go(currentVersion)
  }

  const onLoadVersion = (n: number) => {
    const load = () =>
      loadVersion.mutate(n, {
        onSuccess: (v) => {
          const flow = toFlow(v.graph, ops)
          setNodes(flow.nodes)
          setEdges(flow.edges)
          setVariables(v.graph.variables ?? [])
          setShownVersion(n)
          setGeneration((g) => g + 1)
          setSelected(null)
          if (n === currentVersion) setSavedText(graphText(toGraph(flow.nodes, flow.edges, v.graph.variables ?? [])))
          setDrawer(null)
          void message.success(n === currentVersion ? `Version ${n} loaded.` : `Version ${n} loaded: save it to make it current again.`)
        },
        onError: (err) => void message.error(errorMessage(err)),
      })
    if (dirty) modal.confirm({ title: 'Drop the unsaved changes?', content: `Loading version ${n} replaces what is on the canvas.`, okText: 'Load', onOk: load })
    else load()
  }

  const runTag = run.data && (
    <Space size={6} data-testid="run-state">
      <Tag color={runLook(run.data.status).color} icon={runActive ? <LoadingOutlined /> : undefined}>
        {run.data.mode === 'debug' ? 'debug run' : 'full run'} {runLook(run.data.status).label}
      </Tag>
      <Typography.Text type="secondary" style={{ fontSize: 12, whiteSpace: 'nowrap' }}>
        v{run.data.version} · {run.data.nodes.filter((n) => n.status !== 'pending' && n.status !== 'running').length}/{run.data.nodes.length} nodes
        {run.data.duration_s !== null && run.data.duration_s !== undefined ? ` · ${seconds(run.data.duration_s)}` : ''}
      </Typography.Text>
      {run.data.error && (
        <Tooltip title={run.data.error}>
          <Typography.Text type="danger" ellipsis style={{ fontSize: 12, maxWidth: 260 }} data-testid="run-error">
            {run.data.error}
          </Typography.Text>
        </Tooltip>
      )}
      {runActive && editor && (
        <Button size="small" icon={<StopOutlined />} onClick={() => cancel.mutate(run.data.id)} loading={cancel.isPending}>
          Cancel
        </Button>
      )}
      <Button size="small" type="text" onClick={() => showRun(null)}>
        Hide
      </Button>
    </Space>
  )

  const panelOpen = !!runId && !!selected && !!run.data

  return (
    <EditorContext.Provider value={view}>
      <div style={{ marginBottom: 8 }}>
        <Link to={`/w/${slug}/pipelines`}>
          <ArrowLeftOutlined /> Pipelines
        </Link>
      </div>
      <Flex justify="space-between" align="center" gap={12} wrap style={{ marginBottom: 12 }}>
        <Space size={10} wrap align="center">
          <Typography.Title level={3} style={{ margin: 0 }} data-testid="pipeline-name">
            {name}
          </Typography.Title>
          <Tag>v{shownVersion ?? currentVersion}{shownVersion !== currentVersion ? ` (current v${currentVersion})` : ''}</Tag>
          {dirty && (
            <Tag color="orange" data-testid="unsaved">
              unsaved
            </Tag>
          )}
          <ValidationBadge pending={validating} error={validation.error} count={validation.data?.errors.length ?? 0} hasNodes={nodes.length > 0} />
          {run.isError && <Tag color="warning">{errorMessage(run.error)}</Tag>}
        </Space>
        <Space size={8} wrap>
          <Button icon={<FunctionOutlined />} onClick={() => setDrawer('variables')}>
            Variables{variables.length ? ` (${variables.length})` : ''}
          </Button>
          <Button data-testid="versions-button" icon={<HistoryOutlined />} onClick={() => setDrawer('versions')}>
            Versions
          </Button>
          <Button data-testid="runs-button" icon={<UnorderedListOutlined />} onClick={() => setDrawer('runs')}>
            Runs
          </Button>
          {editor && (
            <>
              <Button data-testid="save-button" icon={<SaveOutlined />} onClick={() => setSaving(true)} disabled={!dirty}>
                Save
              </Button>
              <Button data-testid="debug-button" icon={<BugOutlined />} onClick={() => setRunMode('debug')} disabled={!nodes.length || runActive}>
                Debug
              </Button>
              <Button data-testid="run-button" type="primary" icon={<CaretRightOutlined />} onClick={() => setRunMode('full')} disabled={!nodes.length || runActive}>
                Run
              </Button>
            </>
          )}
        </Space>
      </Flex>
      {graphIssues.length > 0 && (
        <Alert type="error" showIcon style={{ marginBottom: 8 }} title={graphIssues.map((i) => i.message).join(' ')} data-testid="graph-errors" />
      )}
      <div
        style={{
          display: 'flex',
          height: EDITOR_HEIGHT,
          minHeight: 460,
          border: '1px solid #f0f0f0',
          borderRadius: 8,
          overflow: 'hidden',
          background: '#fff',
        }}
      >
        {!readOnly && paletteOpen && (
          <div style={{ width: 210, borderRight: '1px solid #f0f0f0', flexShrink: 0, position: 'relative' }}>
            <Palette operators={operators} onAdd={(op) => addOperator(op)} onHide={() => setPaletteOpen(false)} />
          </div>
        )}
        {!readOnly && !paletteOpen && (
          <div style={{ width: 36, borderRight: '1px solid #f0f0f0', flexShrink: 0, display: 'flex', justifyContent: 'center', paddingTop: 8 }}>
            <Tooltip title="Show the operators" placement="right">
              <Button size="small" type="text" icon={<AppstoreAddOutlined />} onClick={() => setPaletteOpen(true)} aria-label="Show the operators" />
            </Tooltip>
          </div>
        )}
        <div style={{ flex: 1, minWidth: 0, display: 'flex', flexDirection: 'column' }}>
          <div ref={canvasRef} style={{ flex: 1, minHeight: 0, position: 'relative' }} data-testid="canvas" onDrop={onDrop} onDragOver={(e) => {
            e.preventDefault()
            e.dataTransfer.dropEffect = 'move'
          }}>
            <ReactFlow<OpNode, Edge>
              nodes={nodes}
              edges={shownEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              isValidConnection={(c) => problemOf(c) === null}
              onNodeClick={(_, n) => setSelected(n.id)}
              onSelectionChange={({ nodes: picked }) => picked.length === 1 && setSelected(picked[0].id)}
              onPaneClick={() => setSelected(null)}
              onNodesDelete={(deleted) => deleted.some((n) => n.id === selected) && setSelected(null)}
              nodesDraggable={!readOnly}
              nodesConnectable={!readOnly}
              elementsSelectable
              deleteKeyCode={readOnly ? null : ['Backspace', 'Delete']}
              fitView
              fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
              minZoom={0.2}
              maxZoom={1.6}
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={16} color="#ececec" />
              <Controls showInteractive={false} />
              {runTag && (
                <Panel position="top-left" style={{ background: '#fff', padding: '4px 8px', borderRadius: 6, boxShadow: '0 1px 4px rgba(0,0,0,0.12)' }}>
                  {runTag}
                </Panel>
              )}
              <Panel position="top-right" style={{ background: 'rgba(255,255,255,0.85)', padding: '2px 8px', borderRadius: 6, fontSize: 11, color: '#595959' }}>
                <Space size={8} data-testid="port-legend">
                  {PORT_TYPES.map((t) => (
                    <span key={t}>
                      <span style={{ display: 'inline-block', width: 8, height: 8, borderRadius: 4, background: portColour(t), marginRight: 3 }} />
                      {t}
                    </span>
                  ))}
                </Space>
              </Panel>
              {!panelOpen && <MiniMap pannable zoomable nodeColor={(n) => {
                const r = nodeRuns.get(n.id)
                return issues.has(n.id) ? '#cf1322' : r ? nodeLook(r.status).hex : '#d9d9d9'
              }} style={{ width: 140, height: 90 }} />}
            </ReactFlow>
            {nodes.length === 0 && (
              <div style={{ position: 'absolute', inset: 0, display: 'flex', alignItems: 'center', justifyContent: 'center', pointerEvents: 'none' }}>
                <Typography.Text type="secondary" data-testid="canvas-empty">
                  {readOnly ? 'This pipeline has no nodes yet.' : 'Drag an operator from the palette onto the canvas (or press + beside it) to start.'}
                </Typography.Text>
              </div>
            )}
          </div>
          {panelOpen && (
            <div style={{ height: 300, borderTop: '1px solid #f0f0f0', flexShrink: 0 }}>
              <NodePanel
                key={`${runId}:${selected}`}
                slug={slug}
                pipeline={name}
                runId={runId!}
                nodeId={selected!}
                summary={nodeRuns.get(selected!)}
                runActive={runActive}
                canRerun={editor}
                onRerun={() => {
                  setFromNode(selected)
                  setRunMode(run.data!.mode === 'debug' ? 'debug' : 'full')
                }}
                onClose={() => setSelected(null)}
              />
            </div>
          )}
        </div>
        {selectedNode && (
          <div style={{ width: 310, borderLeft: '1px solid #f0f0f0', padding: 14, overflowY: 'auto', flexShrink: 0 }}>
            <NodeForm
              key={`${selectedNode.id}:${generation}`}
              node={selectedNode}
              operator={ops.get(selectedNode.data.operator)}
              schemas={selectedSchemas}
              issues={issues.get(selectedNode.id) ?? []}
              readOnly={readOnly}
              slug={slug}
              onParams={(params) => updateNode(selectedNode.id, { params })}
              onLabel={(label) => updateNode(selectedNode.id, { label: label || null })}
              onDelete={() => deleteNode(selectedNode.id)}
            />
          </div>
        )}
      </div>

      <Modal
        title="Save a new version"
        open={saving}
        onCancel={() => setSaving(false)}
        onOk={() => doSave(saveMessage.trim())}
        okText="Save"
        confirmLoading={save.isPending}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">
          The canvas becomes version {currentVersion + 1}; earlier versions stay in the history.
          {validation.data && !validation.data.valid && ' It has validation errors: you may save a draft, but it cannot run until they are fixed.'}
        </Typography.Paragraph>
        <Input.TextArea
          autoFocus
          value={saveMessage}
          onChange={(e) => setSaveMessage(e.target.value)}
          placeholder="What this version changes"
          maxLength={1000}
          rows={3}
          aria-label="Version message"
        />
      </Modal>
      <RunModal
        open={runMode !== null}
        mode={runMode ?? 'full'}
        variables={variables}
        dirty={dirty}
        fromNode={fromNode}
        busy={save.isPending || startRun.isPending}
        error={startRun.error ?? save.error}
        onClose={() => {
          setRunMode(null)
          setFromNode(null)
          startRun.reset()
        }}
        onRun={doRun}
      />
      <VariablesDrawer open={drawer === 'variables'} variables={variables} readOnly={readOnly} onClose={() => setDrawer(null)} onChange={setVariables} />
      <VersionsDrawer
        open={drawer === 'versions'}
        slug={slug}
        pipeline={name}
        current={currentVersion}
        shown={shownVersion}
        loading={loadVersion.isPending ? (loadVersion.variables ?? null) : null}
        onClose={() => setDrawer(null)}
        onLoad={onLoadVersion}
      />
      <RunsDrawer
        open={drawer === 'runs'}
        slug={slug}
        pipeline={name}
        shown={runId}
        onClose={() => setDrawer(null)}
        onShow={(id) => {
          showRun(id)
          setDrawer(null)
        }}
        onCompare={(a, b) => navigate(`/w/${slug}/pipelines/${encodeURIComponent(name)}/compare?a=${a}&b=${b}`)}
      />
    </EditorContext.Provider>
  )
}

/** The pipeline editor: palette, canvas, node form, validation, versions, runs and per-node results. */
export default function EditorPage() {
  const slug = useWorkspaceSlug()!
  const { pipeline: name = '' } = useParams()
  const pipeline = usePipeline(slug, name)
  const operators = useOperators()
  const back = (
    <div style={{ marginBottom: 8 }}>
      <Link to={`/w/${slug}/pipelines`}>
        <ArrowLeftOutlined /> Pipelines
      </Link>
    </div>
  )
  // The canvas starts from what the server has now, never from an older copy in the cache.
  if (pipeline.isPending || operators.isPending || (pipeline.isFetching && !pipeline.isFetchedAfterMount)) return <LoadingState />
  if (pipeline.isError || operators.isError)
    return (
      <>
        {back}
        <ErrorState
          error={pipeline.error ?? operators.error}
          onRetry={() => {
            void pipeline.refetch()
            void operators.refetch()
          }}
        />
      </>
    )
  return (
    <ReactFlowProvider>
      <Editor key={pipeline.data.id} detail={pipeline.data} operators={operators.data} />
    </ReactFlowProvider>
  )
}
