// Which params, metrics and tags the runs table shows: chosen per experiment, kept in the browser.
import { useCallback, useState } from 'react'
import type { ExperimentColumns } from './types'

export interface ChosenColumns {
  metrics: string[]
  params: string[]
  tags: string[]
}

/** Params Dais's trainers log about the data and the split: shown only when chosen. */
const QUIET_PARAMS = /^(dataset|dataset_version|features|n_features|target|seed|split(\..*)?|train_loss)$/

/**
 * The columns shown before any choice: a few metrics and params, preferring the ones that say most
 * (validation metrics, then the rest; a trainer's bookkeeping params last).
 */
export function defaultColumns(cols: ExperimentColumns | undefined): ChosenColumns {
  if (!cols) return { metrics: [], params: [], tags: [] }
  const rank = (k: string) => (/^(valid|val|test|eval)[_./-]/.test(k) ? 1 : /^(train|training)[_./-]|seconds$/.test(k) ? 2 : 0)
  const metrics = [...cols.metrics].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).slice(0, 6)
  const loud = cols.params.filter((k) => !QUIET_PARAMS.test(k))
  const params = (loud.length ? loud : cols.params).slice(0, 5)
  return { metrics, params, tags: [] }
}

function storageKey(slug: string, experiment: string): string {
  return `dais.runs.columns.${slug}.${experiment}`
}

function read(key: string): ChosenColumns | null {
  try {
    const raw = localStorage.getItem(key)
    if (!raw) return null
    const v = JSON.parse(raw) as Partial<ChosenColumns>
    const list = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : [])
    return { metrics: list(v.metrics), params: list(v.params), tags: list(v.tags) }
  } catch {
    return null
  }
}

/** The columns chosen for an experiment (null: none chosen yet, use the defaults) and a setter that remembers. */
export function useChosenColumns(slug: string, experiment: string): [ChosenColumns | null, (v: ChosenColumns) => void] {
  const key = storageKey(slug, experiment)
  const [state, setState] = useState<{ key: string; value: ChosenColumns | null }>(() => ({ key, value: read(key) }))
  const value = state.key === key ? state.value : read(key)
  const set = useCallback(
    (v: ChosenColumns) => {
      setState({ key, value: v })
      try {
        localStorage.setItem(key, JSON.stringify(v))
      } catch {
        // private mode: the choice lasts as long as the page
      }
    },
    [key],
  )
  return [value, set]
}
