// The parts of a job shared by the submit form and the schedule form: values, defaults, the body
// sent to the API, and the API's field errors put back on the form.
import type { FormInstance } from 'antd'
import { ApiError } from '../api/client'
import type { JobSubmit, KindRead } from '../api/types'
import { buildSpec, type JsonSchema, type SpecField, specFields } from './spec-schema'

export interface JobFormValues {
  kind?: string
  name?: string
  spec?: Record<string, unknown>
  spec_json?: string
  cpus: number
  memory_mb: number
  gpus: number
  priority: number
  max_attempts: number
  backoff_s: number
  timeout_s?: number | null
  depends_on?: string[]
}

export const JOB_DEFAULTS: JobFormValues = {
  cpus: 1,
  memory_mb: 512,
  gpus: 0,
  priority: 0,
  max_attempts: 1,
  backoff_s: 10,
  depends_on: [],
}

export function findKind(kinds: KindRead[] | undefined, name: string | undefined): KindRead | undefined {
  return kinds?.find((k) => k.name === name)
}

/** The form fields of a kind's spec, or `null` when its schema needs the JSON editor. */
export function kindFields(kind: KindRead | undefined): SpecField[] | null {
  return kind ? specFields(kind.spec_schema as JsonSchema) : null
}

/** The job to submit, from the form's values (throws a SyntaxError for a spec that is not JSON). */
export function jobSubmitFromValues(values: JobFormValues, kinds: KindRead[] | undefined): JobSubmit {
  const fields = kindFields(findKind(kinds, values.kind))
  const spec = fields ? buildSpec(fields, values.spec) : (JSON.parse(values.spec_json || '{}') as Record<string, unknown>)
  return {
    kind: values.kind!,
    name: values.name?.trim() || null,
    spec,
    priority: values.priority,
    resources: { cpus: values.cpus, memory_mb: values.memory_mb, gpus: values.gpus },
    max_attempts: values.max_attempts,
    backoff_s: values.backoff_s,
    timeout_s: values.timeout_s ?? null,
    depends_on: values.depends_on ?? [],
  }
}

/**
 * Put the API's per-field messages on the form: `spec.<field>` and `resources.<field>` land on the
 * matching inputs, other fields by their name when the form has one.
 */
export function showFieldErrors(form: FormInstance, error: unknown, topFields: string[], fields: SpecField[] | null): void {
  if (!(error instanceof ApiError)) return
  const specNames = new Set((fields ?? []).map((f) => f.name))
  const top = new Set(topFields)
  const marks: { name: (string | number)[] | string; errors: string[] }[] = []
  for (const e of error.fieldErrors) {
    const loc = e.loc.map(String)
    const at = loc.indexOf('spec')
    const res = loc.indexOf('resources')
    const last = loc[loc.length - 1]
    if (at >= 0 && specNames.has(loc[at + 1])) marks.push({ name: ['spec', loc[at + 1]], errors: [e.msg] })
    else if (at >= 0 && !fields) marks.push({ name: 'spec_json', errors: [e.msg] })
    else if (res >= 0 && top.has(loc[res + 1])) marks.push({ name: loc[res + 1], errors: [e.msg] })
    else if (top.has(last)) marks.push({ name: last, errors: [e.msg] })
  }
  if (marks.length) form.setFields(marks)
}

export const JOB_FIELD_NAMES = [...Object.keys(JOB_DEFAULTS), 'kind', 'name', 'timeout_s']
