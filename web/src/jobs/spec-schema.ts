// A job kind's spec is described by a JSON schema (pydantic's). The submit form draws one field per
// property it understands and a JSON editor for anything else.

export interface JsonSchema {
  type?: string | string[]
  title?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
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
  minLength?: number
  maxLength?: number
  additionalProperties?: boolean | JsonSchema
  format?: string
  writeOnly?: boolean
}

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'string-list' | 'enum-list' | 'json'

export interface SpecField {
  name: string
  label: string
  description?: string
  kind: FieldKind
  required: boolean
  /** `null` is a valid value (an optional field): an empty input is left out of the spec. */
  nullable: boolean
  options?: unknown[]
  min?: number
  max?: number
  maxLength?: number
  /** A credential: typed into a password box. */
  secret: boolean
  /** The form's initial value (a JSON text for `json` fields). */
  initial: unknown
}

function resolve(schema: JsonSchema, root: JsonSchema, depth = 0): JsonSchema {
  if (depth > 8) return schema
  if (schema.$ref?.startsWith('#/$defs/')) {
    const target = root.$defs?.[schema.$ref.slice('#/$defs/'.length)]
    if (target) return resolve({ ...target, ...withoutRef(schema) }, root, depth + 1)
  }
  if (schema.allOf?.length === 1) return resolve({ ...schema.allOf[0], ...without(schema, 'allOf') }, root, depth + 1)
  return schema
}

function withoutRef(schema: JsonSchema): JsonSchema {
  const { $ref: _ref, ...rest } = schema
  return rest
}

function without(schema: JsonSchema, key: 'allOf'): JsonSchema {
  const copy = { ...schema }
  delete copy[key]
  return copy
}

function typeOf(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null')
  return schema.type
}

function allowsNull(schema: JsonSchema): boolean {
  return (Array.isArray(schema.type) && schema.type.includes('null')) || schema.type === 'null'
}

function classify(schema: JsonSchema, root: JsonSchema): { kind: FieldKind; schema: JsonSchema; nullable: boolean } {
  let s = resolve(schema, root)
  let nullable = allowsNull(s)
  const union = s.anyOf ?? s.oneOf
  if (union) {
    const members = union.map((m) => resolve(m, root))
    const nonNull = members.filter((m) => m.type !== 'null')
    nullable = nullable || nonNull.length < members.length
    if (nonNull.length !== 1) return { kind: 'json', schema: s, nullable }
    s = { ...nonNull[0], title: s.title ?? nonNull[0].title, description: s.description ?? nonNull[0].description, default: s.default }
  }
  if (s.enum?.length) return { kind: 'enum', schema: s, nullable }
  const type = typeOf(s)
  if (type === 'string') return { kind: 'string', schema: s, nullable }
  if (type === 'integer') return { kind: 'integer', schema: s, nullable }
  if (type === 'number') return { kind: 'number', schema: s, nullable }
  if (type === 'boolean') return { kind: 'boolean', schema: s, nullable }
  if (type === 'array' && s.items) {
    const item = resolve(s.items, root)
    if (item.enum?.length) return { kind: 'enum-list', schema: { ...s, enum: item.enum }, nullable }
    if (typeOf(item) === 'string') return { kind: 'string-list', schema: s, nullable }
  }
  return { kind: 'json', schema: s, nullable }
}

function label(name: string, schema: JsonSchema): string {
  if (schema.title) return schema.title
  const words = name.replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** The fields of a spec schema, or `null` when the schema is not an object with properties. */
export function specFields(root: JsonSchema): SpecField[] | null {
  const top = resolve(root, root)
  if (!top.properties) return null
  const required = new Set(top.required ?? [])
  return Object.entries(top.properties).map(([name, raw]) => {
    const { kind, schema, nullable } = classify(raw, root)
    const fallback = kind === 'string-list' || kind === 'enum-list' ? [] : undefined
    const def = schema.default ?? raw.default
    let initial: unknown = def === null ? undefined : (def ?? fallback)
    if (kind === 'json') initial = def === undefined || def === null ? '' : JSON.stringify(def, null, 2)
    return {
      name,
      label: label(name, { ...schema, title: raw.title ?? schema.title }),
      description: raw.description ?? schema.description,
      kind,
      required: required.has(name),
      nullable,
      options: schema.enum,
      min: schema.minimum ?? schema.exclusiveMinimum,
      max: schema.maximum ?? schema.exclusiveMaximum,
      maxLength: schema.maxLength,
      secret: schema.format === 'password' || !!schema.writeOnly,
      initial,
    }
  })
}

export function initialSpec(fields: SpecField[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f.name, f.initial]))
}

/** A JSON text that must hold a valid value (empty is fine unless required). */
export function checkJson(text: unknown, required: boolean): string | null {
  if (typeof text !== 'string' || text.trim() === '') return required ? 'Enter a value as JSON.' : null
  try {
    JSON.parse(text)
    return null
  } catch (err) {
    return `Not valid JSON: ${(err as Error).message}`
  }
}

/** The spec to send: empty optional inputs are left out, so the kind's defaults apply. */
export function buildSpec(fields: SpecField[], values: Record<string, unknown> | undefined): Record<string, unknown> {
  const spec: Record<string, unknown> = {}
  for (const f of fields) {
    const v = values?.[f.name]
    if (f.kind === 'json') {
      if (typeof v === 'string' && v.trim() !== '') spec[f.name] = JSON.parse(v)
      continue
    }
    if (v === undefined || v === null) continue
    if (v === '' && !f.required) continue
    if (Array.isArray(v) && v.length === 0 && !f.required) continue
    spec[f.name] = v
  }
  return spec
}
