// An operator's params are described by a JSON schema (pydantic's). The node form draws one input per
// property: text, numbers with their ranges, switches, selects for enums, lists, column pickers
// (`x-dais-columns: {port, types, multiple}`) fed by the columns validation inferred for the node's
// inputs, maps keyed by column (`x-dais-column-keys`), lists of small objects, and JSON for the rest.
import type { ColumnRead, TableSchema } from './types'

export interface JsonSchema {
  type?: string | string[]
  title?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  $ref?: string
  $defs?: Record<string, JsonSchema>
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  maxLength?: number
  pattern?: string
  additionalProperties?: boolean | JsonSchema
  'x-dais-columns'?: ColumnPicker
  'x-dais-column-keys'?: { port: string }
  'x-dais-editor'?: string
}

export interface ColumnPicker {
  port: string
  types: string[]
  multiple: boolean
}

export type ParamKind =
  | 'string'
  | 'text'
  | 'code'
  | 'dataset'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'enum'
  | 'enum-list'
  | 'string-list'
  | 'column'
  | 'columns'
  | 'map'
  | 'objects'
  | 'json'

export interface ParamField {
  name: string
  label: string
  description?: string
  kind: ParamKind
  required: boolean
  nullable: boolean
  options?: unknown[]
  min?: number
  max?: number
  exclusiveMin?: boolean
  exclusiveMax?: boolean
  maxLength?: number
  pattern?: string
  picker?: ColumnPicker
  /** Maps: the keys are columns of this input port. */
  keysFrom?: string
  /** Lists of objects: the fields of one item. */
  itemFields?: ParamField[]
  /** JSON fields whose schema also takes plain text (a text that is not JSON is kept as text). */
  acceptsText?: boolean
  default: unknown
}

function resolve(schema: JsonSchema, root: JsonSchema, depth = 0): JsonSchema {
  if (depth > 8) return schema
  if (schema.$ref?.startsWith('#/$defs/')) {
    const target = root.$defs?.[schema.$ref.slice('#/$defs/'.length)]
    const { $ref: _ref, ...rest } = schema
    if (target) return resolve({ ...target, ...rest }, root, depth + 1)
  }
  if (schema.allOf?.length === 1) {
    const { allOf, ...rest } = schema
    return resolve({ ...allOf[0], ...rest }, root, depth + 1)
  }
  return schema
}

function typeOf(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null')
  return schema.type
}

/** The field's own title (not that of a type it refers to, such as an enum's), else its name in words. */
function labelOf(name: string, title: string | undefined): string {
  const words = name.replace(/_/g, ' ')
  const fallback = words.charAt(0).toUpperCase() + words.slice(1)
  // pydantic titles read "Left On": keep the field's own words in sentence case instead.
  return title && title.toLowerCase() !== words.toLowerCase() ? title : fallback
}

function field(name: string, raw: JsonSchema, root: JsonSchema, required: boolean): ParamField {
  let s = resolve(raw, root)
  let nullable = Array.isArray(s.type) ? s.type.includes('null') : s.type === 'null'
  let acceptsText = false
  const union = s.anyOf ?? s.oneOf
  let kind: ParamKind | null = null
  if (union) {
    const members = union.map((m) => resolve(m, root))
    const nonNull = members.filter((m) => m.type !== 'null')
    nullable = nullable || nonNull.length < members.length
    if (nonNull.length === 1) {
      s = { ...nonNull[0], ...withoutUnion(s) }
    } else {
      kind = 'json'
      acceptsText = nonNull.some((m) => typeOf(m) === 'string')
    }
  }
  const picker = raw['x-dais-columns'] ?? s['x-dais-columns']
  const keys = raw['x-dais-column-keys'] ?? s['x-dais-column-keys']
  const type = typeOf(s)
  let itemFields: ParamField[] | undefined
  let options = s.enum
  if (!kind) {
    if (picker) kind = picker.multiple ? 'columns' : 'column'
    else if (s.enum?.length) kind = 'enum'
    else if (type === 'string') {
      if (s['x-dais-editor']) kind = 'code'
      else if (name === 'dataset') kind = 'dataset'
      else kind = (s.maxLength ?? 0) > 300 ? 'text' : 'string'
    } else if (type === 'integer') kind = 'integer'
    else if (type === 'number') kind = 'number'
    else if (type === 'boolean') kind = 'boolean'
    else if (type === 'array' && s.items) {
      const item = resolve(s.items, root)
      if (item.enum?.length) {
        kind = 'enum-list'
        options = item.enum
      } else if (typeOf(item) === 'string') kind = 'string-list'
      else if (typeOf(item) === 'object' && item.properties) {
        kind = 'objects'
        const req = new Set(item.required ?? [])
        itemFields = Object.entries(item.properties).map(([n, r]) => field(n, r, root, req.has(n)))
      } else kind = 'json'
    } else if (type === 'object' && typeof s.additionalProperties === 'object' && typeOf(s.additionalProperties) === 'string') {
      kind = 'map'
    } else kind = 'json'
  }
  return {
    name,
    label: labelOf(name, raw.title),
    description: raw.description ?? s.description,
    kind,
    required,
    nullable,
    options,
    min: s.minimum ?? s.exclusiveMinimum,
    max: s.maximum ?? s.exclusiveMaximum,
    exclusiveMin: s.exclusiveMinimum !== undefined,
    exclusiveMax: s.exclusiveMaximum !== undefined,
    maxLength: s.maxLength,
    pattern: s.pattern,
    picker,
    keysFrom: keys?.port,
    itemFields,
    acceptsText,
    default: raw.default ?? s.default,
  }
}

function withoutUnion(schema: JsonSchema): JsonSchema {
  const { anyOf: _a, oneOf: _o, type: _t, ...rest } = schema
  return rest
}

/** The fields of an operator's params schema (none for an operator without params). */
export function paramFields(schema: Record<string, unknown>): ParamField[] {
  const root = schema as JsonSchema
  const top = resolve(root, root)
  const required = new Set(top.required ?? [])
  return Object.entries(top.properties ?? {}).map(([name, raw]) => field(name, raw, root, required.has(name)))
}

/** A range as words, for the field's help: "0 ≤ x < 1". */
export function rangeText(f: ParamField): string | null {
  if (f.min === undefined && f.max === undefined) return null
  const lo = f.min === undefined ? '' : `${f.min} ${f.exclusiveMin ? '<' : '≤'} `
  const hi = f.max === undefined ? '' : ` ${f.exclusiveMax ? '<' : '≤'} ${f.max}`
  return `${lo}value${hi}`
}

// -- form values <-> params ----------------------------------------------------------------------------

type Pair = { key?: string; value?: string }

/** A param's value as the form holds it (maps as key/value rows, JSON as text). */
export function toFormValue(f: ParamField, value: unknown): unknown {
  const v = value === undefined ? f.default : value
  switch (f.kind) {
    case 'map':
      return v && typeof v === 'object' ? Object.entries(v as Record<string, unknown>).map(([key, val]) => ({ key, value: String(val) })) : []
    case 'objects':
      return Array.isArray(v)
        ? v.map((item: Record<string, unknown>) =>
            Object.fromEntries((f.itemFields ?? []).map((sub) => [sub.name, toFormValue(sub, item?.[sub.name])])),
          )
        : []
    case 'json':
      if (v === undefined || v === null) return ''
      if (typeof v === 'string' && f.acceptsText) return v
      return JSON.stringify(v)
    case 'columns':
    case 'string-list':
    case 'enum-list':
      return Array.isArray(v) ? v : []
    default:
      return v === null ? undefined : v
  }
}

/** The param value of a form value; `undefined` leaves the param out (its default applies). */
export function fromFormValue(f: ParamField, value: unknown): unknown {
  switch (f.kind) {
    case 'map': {
      const rows = (Array.isArray(value) ? value : []) as Pair[]
      const out: Record<string, string> = {}
      for (const r of rows) if (r?.key) out[r.key] = r.value ?? ''
      return Object.keys(out).length ? out : undefined
    }
    case 'objects': {
      const items = (Array.isArray(value) ? value : []) as Record<string, unknown>[]
      const out = items
        .filter((item) => item && typeof item === 'object')
        .map((item) => {
          const obj: Record<string, unknown> = {}
          for (const sub of f.itemFields ?? []) {
            const v = fromFormValue(sub, item[sub.name])
            if (v !== undefined) obj[sub.name] = v
          }
          return obj
        })
      return out.length ? out : undefined
    }
    case 'json': {
      if (typeof value !== 'string' || value.trim() === '') return undefined
      try {
        return JSON.parse(value)
      } catch {
        return f.acceptsText ? value : value
      }
    }
    case 'columns':
    case 'string-list':
    case 'enum-list':
      return Array.isArray(value) && value.length ? value : f.required ? [] : undefined
    case 'string':
    case 'text':
    case 'code':
    case 'dataset':
    case 'column':
      return typeof value === 'string' && value !== '' ? value : undefined
    default:
      return value === null || value === '' ? undefined : value
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** Params from the form's values: fields left at their defaults are left out. */
export function paramsFromForm(fields: ParamField[], values: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const f of fields) {
    const v = fromFormValue(f, values[f.name])
    if (v === undefined) continue
    if (!f.required && f.default !== undefined && same(v, f.default)) continue
    params[f.name] = v
  }
  return params
}

export function formFromParams(fields: ParamField[], params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f.name, toFormValue(f, params[f.name])]))
}

// -- column type groups (mirrors TYPE_GROUPS in dais.pipelines.operators) --------------------------------

const INTEGER = /^u?int(8|16|32|64)$/
const FLOATING = /^(float(16|32|64)|decimal)/

const GROUPS: Record<string, (dtype: string) => boolean> = {
  any: () => true,
  numeric: (t) => INTEGER.test(t) || FLOATING.test(t),
  integer: (t) => INTEGER.test(t),
  floating: (t) => FLOATING.test(t),
  string: (t) => t === 'string',
  boolean: (t) => t === 'boolean',
  temporal: (t) => t === 'date' || t === 'time' || t.startsWith('timestamp'),
  date: (t) => t === 'date',
  timestamp: (t) => t.startsWith('timestamp'),
}

/** Whether a column's Ibis dtype belongs to one of a picker's type groups. */
export function inGroups(dtype: string, groups: string[]): boolean {
  const t = dtype.replace(/^!/, '')
  return groups.some((g) => (GROUPS[g] ?? (() => true))(t))
}

export interface ColumnChoices {
  /** The columns the picker offers (those of the right types). */
  columns: ColumnRead[]
  /** How many columns the input has but are of other types. */
  hidden: number
  /** The input's columns are not all known before a run (or the input is not connected/inferred). */
  open: boolean
  known: boolean
}

export function columnChoices(schema: TableSchema | null | undefined, groups: string[] | undefined): ColumnChoices {
  if (!schema) return { columns: [], hidden: 0, open: true, known: false }
  const wanted = groups?.length ? groups : ['any']
  const all = schema.columns ?? []
  const columns = all.filter((c) => inGroups(c.dtype, wanted))
  return { columns, hidden: all.length - columns.length, open: schema.open, known: true }
}
