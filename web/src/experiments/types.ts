// Names for the tracking, training and tuning APIs' models, generated from the server's OpenAPI
// document (`make openapi`).
import type { components } from '../api/schema'

type S = components['schemas']

export type ExperimentRead = S['ExperimentRead']
export type ExperimentPage = S['ExperimentPage']
export type ExperimentCreate = S['ExperimentCreate']
export type ExperimentUpdate = S['ExperimentUpdate']
export type ExperimentColumns = S['ExperimentColumns']
export type View = S['View']

export type RunSearch = S['RunSearch']
export type RunRead = S['RunRead']
export type RunRow = S['RunRow']
export type RunPage = S['RunPage']
export type RunDetail = S['RunDetail']
export type RunUpdate = S['RunUpdate']
export type RunBrief = S['RunBrief']
export type LatestMetric = S['LatestMetric']
export type RunInputRead = S['RunInputRead']
export type MetricSeries = S['MetricSeries']
export type MetricPointRead = S['MetricPointRead']
export type MetricHistoryRequest = S['MetricHistoryRequest']
export type MetricHistoryBulk = S['MetricHistoryBulk']
export type RunArtifact = S['RunArtifact']
export type RunArtifactList = S['RunArtifactList']
export type RunsComparison = S['RunsComparison']
export type ParamDiff = RunsComparison['params'][number]
export type MetricCompare = S['MetricCompare']

export type AlgorithmRead = S['AlgorithmRead']
export type TrainingRunCreate = S['TrainingRunCreate']
export type TrainingRunCreated = S['TrainingRunCreated']
export type Resources = S['Resources']

export type StudyRead = S['StudyRead']
export type StudyPage = S['StudyPage']
export type StudyDetail = S['StudyDetail']
export type StudyCreate = S['StudyCreate']
export type StudyCreated = S['StudyCreated']
export type StudyPromote = S['StudyPromote']
export type Promoted = S['Promoted']
export type TrialRead = S['TrialRead']
export type HistoryPoint = S['HistoryPoint']
export type LeaderboardRow = S['LeaderboardRow']

/** `evaluation.json` as Dais's preset trainers write it (every part optional: a script may log its own). */
export interface Evaluation {
  task?: string
  rows?: number | { total?: number; train?: number; valid?: number }
  metrics?: Record<string, number>
  classes?: unknown[]
  confusion_matrix?: { labels: unknown[]; matrix: number[][] }
  roc_curves?: { label: unknown; auc?: number; fpr: (number | null)[]; tpr: (number | null)[] }[]
  pr_curves?: { label: unknown; average_precision?: number; precision: (number | null)[]; recall: (number | null)[] }[]
  feature_importance?: { feature: string; importance: number | null }[]
  residuals?: { actual: (number | null)[]; predicted: (number | null)[] }
  residual_histogram?: { edges: (number | null)[]; counts: number[] }
  clusters?: { sizes?: number[]; projection?: { x: (number | null)[]; y: (number | null)[]; cluster: number[] } }
  [key: string]: unknown
}
