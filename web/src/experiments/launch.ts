// The training launcher's rules, kept apart from its page: which columns can be features, which
// task a target suggests, the request bodies, and which step an API error belongs to.
import type { FieldError } from '../api/client'
import { configBody, type FormField } from '../data/schema-form'
import type { ColumnSchema } from '../data/types'
import type { StudyCreate, TrainingRunCreate } from './types'

export type Task = 'classification' | 'regression' | 'clustering' | 'image_classification'
export type SplitKind = 'holdout' | 'kfold' | 'time' | 'none'

export const TASKS: { value: Task; label: string }[] = [
  { value: 'classification', label: 'Classification' },
  { value: 'regression', label: 'Regression' },
  { value: 'clustering', label: 'Clustering' },
  { value: 'image_classification', label: 'Images' },
]

/** Arrow and Ibis type names of numbers and booleans: features as they are. */
const NUMERIC = /^(u?int(8|16|32|64)?|float(16|32|64)?|halffloat|double|decimal.*|bool(ean)?)$/i
const TEMPORAL = /^(date.*|timestamp.*|time.*)$/i
const FLOAT = /^(float(16|32|64)?|halffloat|double|decimal.*)$/i

export function isNumericType(type: string): boolean {
  return NUMERIC.test(type)
}

export function isTemporalType(type: string): boolean {
  return TEMPORAL.test(type)
}

/** The task a target suggests: none -> clustering; text or booleans or whole numbers -> classification; else regression. */
export function guessTask(target: ColumnSchema | undefined, media: boolean): Task {
  if (media) return 'image_classification'
  if (!target) return 'clustering'
  return FLOAT.test(target.type) ? 'regression' : 'classification'
}

/** Identifier-looking names (`id`, `patient_id`, `patient id`, `patient-id`, `patientId`): the
 * server leaves them out of default features too, since an id predicts nothing that generalises. */
export function isIdLike(name: string): boolean {
  return /^id$|[_\s-]id$/i.test(name) || /[a-z0-9](Id|ID)$/.test(name)
}

/** The columns that can be features as they are (numbers, booleans), without the target and ids. */
export function defaultFeatures(columns: ColumnSchema[], target: string | undefined): string[] {
  return columns
    .filter((c) => c.name !== target && !c.partition && isNumericType(c.type) && !isIdLike(c.name))
    .map((c) => c.name)
}

/** What the launcher's form holds, step by step. */
export interface LaunchValues {
  dataset?: string
  version?: number
  pipeline?: string
  pipeline_run?: string
  node?: string
  target?: string
  features?: string[]
  task?: Task
  algorithm?: string
  params?: Record<string, unknown>
  split?: {
    kind?: SplitKind
    valid_fraction?: number | null
    k?: number
    seed?: number
    stratify?: boolean
    shuffle?: boolean
    column?: string
    cutoff?: string
  }
  mode?: 'run' | 'study'
  experiment?: string
  run_name?: string
  register_as?: string
  resources?: { cpus?: number; memory_mb?: number; gpus?: number }
  timeout_min?: number | null
  study?: {
    name?: string
    max_trials?: number | null
    max_wall_time_min?: number | null
    concurrency?: number
    sampler?: 'random' | 'grid' | 'tpe'
    metric?: string
    direction?: 'minimize' | 'maximize'
  }
}

function splitBody(values: LaunchValues): TrainingRunCreate['split'] {
  const s = values.split ?? {}
  switch (s.kind) {
    case 'kfold':
      return { kind: 'kfold', k: s.k ?? 5, seed: s.seed ?? 42, shuffle: s.shuffle ?? true, stratify: s.stratify ?? true }
    case 'time':
      return s.cutoff ? { kind: 'time', column: s.column ?? '', cutoff: s.cutoff } : { kind: 'time', column: s.column ?? '', valid_fraction: s.valid_fraction ?? 0.2 }
    case 'none':
      return { kind: 'none' }
    case 'holdout':
      return { kind: 'holdout', valid_fraction: s.valid_fraction ?? 0.2, seed: s.seed ?? 42, stratify: s.stratify ?? true }
    default:
      return undefined
  }
}

function blank(s: string | undefined): string | undefined {
  return s && s.trim() ? s.trim() : undefined
}

/** What the data, split and job parts of both requests share. */
function common(values: LaunchValues) {
  return {
    dataset: values.dataset,
    version: values.version ?? undefined,
    transforms: values.pipeline_run ? { pipeline_run: values.pipeline_run, node: blank(values.node) ?? null } : undefined,
    target: values.target ?? undefined,
    features: values.features?.length ? values.features : undefined,
    split: splitBody(values),
  }
}

/** The body of `POST /training/runs`. */
export function trainingBody(values: LaunchValues, paramFields: FormField[]): TrainingRunCreate {
  const r = values.resources ?? {}
  return {
    ...common(values),
    algorithm: values.algorithm,
    params: configBody(paramFields, values.params),
    experiment: blank(values.experiment),
    run_name: blank(values.run_name),
    register_as: blank(values.register_as),
    resources: { cpus: r.cpus ?? 1, memory_mb: r.memory_mb ?? 512, gpus: r.gpus ?? 0 },
    timeout_s: values.timeout_min ? values.timeout_min * 60 : undefined,
  } as TrainingRunCreate
}

/** The body of `POST /studies`: the preset's own search space, the budget, trials run like the single run would. */
export function studyBody(values: LaunchValues): StudyCreate {
  const r = values.resources ?? {}
  const st = values.study ?? {}
  return {
    ...common(values),
    algorithm: values.algorithm,
    name: blank(st.name),
    experiment: blank(values.experiment),
    metric: blank(st.metric),
    direction: st.metric ? st.direction : undefined,
    sampler: st.sampler ?? 'tpe',
    max_trials: st.max_trials ?? undefined,
    max_wall_time_s: st.max_wall_time_min ? st.max_wall_time_min * 60 : undefined,
    concurrency: st.concurrency ?? 1,
    promote_to: blank(values.register_as),
    trial_job: {
      resources: { cpus: r.cpus ?? 1, memory_mb: r.memory_mb ?? 512, gpus: r.gpus ?? 0 },
      timeout_s: values.timeout_min ? values.timeout_min * 60 : undefined,
    },
  } as StudyCreate
}

/** The launcher's steps, and the request fields each one sets. */
export const STEP_FIELDS: string[][] = [
  ['dataset', 'version', 'transforms'],
  ['target', 'features'],
  ['algorithm', 'task'],
  ['params', 'split', 'seed'],
  [],
]

/** The step an API field error belongs to (the last step for anything else). */
export function stepOf(error: FieldError): number {
  const field = error.loc[0] === 'body' ? error.loc[1] : error.loc[0]
  const i = STEP_FIELDS.findIndex((fields) => fields.includes(String(field)))
  return i < 0 ? STEP_FIELDS.length - 1 : i
}

/** The form path of an API field error (`["body", "split", "k"]` -> `["split", "k"]`), mapped to the launcher's names. */
export function formPath(error: FieldError): (string | number)[] {
  const path = error.loc[0] === 'body' ? error.loc.slice(1) : error.loc
  if (path[0] === 'transforms') return ['pipeline_run']
  if (path[0] === 'trial_job') return path.slice(1)
  if (path[0] === 'timeout_s') return ['timeout_min']
  return path
}
