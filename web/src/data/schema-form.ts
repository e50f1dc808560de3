// Forms generated from a JSON Schema (pydantic's): a connector kind's `config_schema` and
// `secrets_schema`. Pure functions only, so the rules can be checked without a browser:
//   schemaFields(schema)            -> the fields to draw, one per property
//   initialValues(fields, current)  -> the form's starting values (defaults, or a saved config)
//   configBody(fields, values)      -> the JSON to send (empty optional inputs left out)
//   secretsBody(fields, values)     -> the credentials typed this time (never any value read back)

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
  definitions?: Record<string, JsonSchema>
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  additionalProperties?: boolean | JsonSchema
  format?: string
  writeOnly?: boolean
  examples?: unknown[]
}

export type FieldKind =
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'enum'
  | 'string-list'
  | 'number-list'
  | 'integer-list'
  | 'enum-list'
  | 'json'

export interface FormField {
  name: string
  label: string
  /** The property's description, shown as help under the input. */
  help?: string
  kind: FieldKind
  /** Must be given (listed in `required` and without a default). */
  required: boolean
  /** `null` is a valid value: an empty input is sent as nothing, so the default applies. */
  nullable: boolean
  options?: unknown[]
  min?: number
  max?: number
  maxLength?: number
  pattern?: string
  /** A credential: typed into a password box, never shown back. */
  secret: boolean
  /** The schema's default, as the form holds it (a JSON text for `json` fields). */
  initial: unknown
  /** The schema's default as JSON (`undefined`: none). */
  defaultValue: unknown
  /** An example value to show as the input's placeholder. */
  example?: string
}

function deref(ref: string, root: JsonSchema): JsonSchema | undefined {
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref)
  if (!match) return undefined
  const defs = match[1] === '$defs' ? root.$defs : root.definitions
  return defs?.[match[2]]
}

function resolve(schema: JsonSchema, root: JsonSchema, depth = 0): JsonSchema {
  if (depth > 8) return schema
  if (schema.$ref) {
    const target = deref(schema.$ref, root)
    if (target) {
      const { $ref: _ref, ...rest } = schema
      return resolve({ ...target, ...rest }, root, depth + 1)
    }
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

function allowsNull(schema: JsonSchema): boolean {
  return schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'))
}

interface Classified {
  kind: FieldKind
  schema: JsonSchema
  nullable: boolean
}

function classify(raw: JsonSchema, root: JsonSchema): Classified {
  let s = resolve(raw, root)
  let nullable = allowsNull(s)
  const union = s.anyOf ?? s.oneOf
  if (union) {
    const members = union.map((m) => resolve(m, root))
    const nonNull = members.filter((m) => m.type !== 'null')
    nullable = nullable || nonNull.length < members.length
    if (nonNull.length !== 1) {
      // Literal["a"] | Literal["b"] arrives as a union of consts: still a choice.
      if (nonNull.length > 1 && nonNull.every((m) => m.const !== undefined)) {
        return { kind: 'enum', schema: { ...s, enum: nonNull.map((m) => m.const) }, nullable }
      }
      return { kind: 'json', schema: s, nullable }
    }
    const { anyOf: _a, oneOf: _o, ...outer } = s
    s = { ...nonNull[0], ...outer, type: nonNull[0].type }
  }
  if (s.const !== undefined && !s.enum) s = { ...s, enum: [s.const] }
  if (s.enum?.length) return { kind: 'enum', schema: s, nullable }
  const type = typeOf(s)
  if (type === 'string') return { kind: 'string', schema: s, nullable }
  if (type === 'integer') return { kind: 'integer', schema: s, nullable }
  if (type === 'number') return { kind: 'number', schema: s, nullable }
  if (type === 'boolean') return { kind: 'boolean', schema: s, nullable }
  if (type === 'array' && s.items) {
    const item = resolve(s.items, root)
    if (item.enum?.length) return { kind: 'enum-list', schema: { ...s, enum: item.enum }, nullable }
    const itemType = typeOf(item)
    if (itemType === 'string') return { kind: 'string-list', schema: s, nullable }
    if (itemType === 'integer') return { kind: 'integer-list', schema: s, nullable }
    if (itemType === 'number') return { kind: 'number-list', schema: s, nullable }
  }
  return { kind: 'json', schema: s, nullable }
}

/** "endpoint_url" -> "Endpoint url", unless the schema gives a title. */
export function fieldLabel(name: string, title?: string): string {
  if (title) return title
  const words = name.replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

export function isListKind(kind: FieldKind): boolean {
  return kind === 'string-list' || kind === 'number-list' || kind === 'integer-list' || kind === 'enum-list'
}

/** The form's value for a default (lists stay lists, JSON becomes text, `null` becomes empty). */
function formValue(kind: FieldKind, value: unknown): unknown {
  if (kind === 'json') return value === undefined || value === null ? '' : JSON.stringify(value, null, 2)
  if (value === null || value === undefined) return isListKind(kind) ? [] : undefined
  if (kind === 'number-list' || kind === 'integer-list') return Array.isArray(value) ? value.map(String) : []
  return value
}

/**
 * The fields of an object schema, one per property in the schema's order; `[]` for a schema with
 * no properties (a kind without settings or without credentials). `secret` marks every field as a
 * credential (use it for a `secrets_schema`); a property with `format: password` or `writeOnly` is
 * one anyway.
 */
export function schemaFields(root: JsonSchema | null | undefined, options: { secret?: boolean } = {}): FormField[] {
  if (!root) return []
  const top = resolve(root, root)
  if (!top.properties) return []
  const required = new Set(top.required ?? [])
  return Object.entries(top.properties).map(([name, raw]) => {
    const { kind, schema, nullable } = classify(raw, root)
    const def = raw.default !== undefined ? raw.default : schema.default
    const example = schema.examples?.[0] ?? raw.examples?.[0]
    return {
      name,
      label: fieldLabel(name, raw.title ?? schema.title),
      help: raw.description ?? schema.description,
      kind,
      required: required.has(name) && def === undefined,
      nullable,
      options: schema.enum,
      min: schema.minimum ?? schema.exclusiveMinimum,
      max: schema.maximum ?? schema.exclusiveMaximum,
      maxLength: schema.maxLength,
      pattern: schema.pattern,
      secret: !!options.secret || schema.format === 'password' || !!schema.writeOnly || !!raw.writeOnly,
      initial: formValue(kind, def),
      defaultValue: def,
      example: example === undefined || example === null ? undefined : String(example),
    }
  })
}

/**
 * The form's starting values: a saved config where it has the property, else the schema's
 * default. Secret fields always start empty: their values are never read back.
 */
export function initialValues(fields: FormField[], current?: Record<string, unknown> | null): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const f of fields) {
    if (f.secret) values[f.name] = undefined
    else if (current && f.name in current) values[f.name] = formValue(f.kind, current[f.name])
    else values[f.name] = f.initial
  }
  return values
}

/** The problem with one input's value, or `null` when it is fine (checked before sending). */
export function fieldProblem(field: FormField, value: unknown): string | null {
  const empty =
    value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
  if (empty) return field.required && !field.nullable && field.kind !== 'boolean' ? `Enter ${field.label.toLowerCase()}.` : null
  if (field.kind === 'json') {
    if (typeof value !== 'string') return null
    try {
      JSON.parse(value)
      return null
    } catch (err) {
      return `Not valid JSON: ${(err as Error).message}`
    }
  }
  if (field.kind === 'number-list' || field.kind === 'integer-list') {
    const bad = (value as unknown[]).find((v) => {
      const n = Number(v)
      return String(v).trim() === '' || !Number.isFinite(n) || (field.kind === 'integer-list' && !Number.isInteger(n))
    })
    return bad === undefined ? null : `“${String(bad)}” is not ${field.kind === 'integer-list' ? 'a whole number' : 'a number'}.`
  }
  if (field.kind === 'string' && field.pattern && typeof value === 'string') {
    try {
      if (!new RegExp(field.pattern).test(value)) return `Does not match the expected form (${field.pattern}).`
    } catch {
      return null
    }
  }
  return null
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
}

/**
 * The settings to send: typed values converted (numbers in lists, JSON texts parsed); empty
 * optional inputs left out so the kind's defaults apply. On an edit (`clearable`, where the API
 * merges the keys into the saved config) an emptied field is sent as `null` or as its default. Throws a SyntaxError for a
 * JSON field that does not parse (check with `fieldProblem` first).
 */
export function configBody(
  fields: FormField[],
  values: Record<string, unknown> | undefined,
  options: { clearable?: boolean } = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  for (const f of fields) {
    if (f.secret) continue
    const v = values?.[f.name]
    if (isEmpty(v)) {
      if (f.kind === 'boolean' && v === false) body[f.name] = false
      else if (options.clearable && f.nullable) body[f.name] = null
      else if (options.clearable && f.defaultValue !== undefined) body[f.name] = f.defaultValue
      continue
    }
    if (f.kind === 'json') body[f.name] = JSON.parse(v as string)
    else if (f.kind === 'number-list' || f.kind === 'integer-list') body[f.name] = (v as unknown[]).map(Number)
    else body[f.name] = v
  }
  return body
}

/**
 * The credentials typed in this form, and only those: an empty secret input means "keep what is
 * stored" on an edit (and "not set" on a create). Values are strings, as typed.
 */
export function secretsBody(fields: FormField[], values: Record<string, unknown> | undefined): Record<string, string> {
  const body: Record<string, string> = {}
  for (const f of fields) {
    const v = values?.[f.name]
    if (typeof v === 'string' && v !== '') body[f.name] = v
  }
  return body
}

/** Required credentials still missing: not typed now and not stored before. */
export function missingSecrets(fields: FormField[], values: Record<string, unknown> | undefined, stored: string[]): string[] {
  const typed = secretsBody(fields, values)
  return fields.filter((f) => f.required && !f.nullable && !(f.name in typed) && !stored.includes(f.name)).map((f) => f.label)
}
