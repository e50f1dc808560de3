import { createContext, useContext } from 'react'
import type { NodeRunSummary, OperatorRead, PipelineIssue } from './types'

export interface EditorView {
  operators: Map<string, OperatorRead>
  /** Validation problems per node id. */
  issues: Map<string, PipelineIssue[]>
  /** The shown run's node states, per node id (empty when no run is shown). */
  nodeRuns: Map<string, NodeRunSummary>
}

export const EditorContext = createContext<EditorView>({ operators: new Map(), issues: new Map(), nodeRuns: new Map() })

export function useEditorView(): EditorView {
  return useContext(EditorContext)
}
