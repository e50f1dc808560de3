import type { FormInstance } from 'antd'
import { ApiError } from '../api/client'

/** Put the API's per-field messages (422 `errors`) on the matching form fields. */
export function applyFieldErrors(form: FormInstance, error: unknown): void {
  if (!(error instanceof ApiError) || error.fieldErrors.length === 0) return
  const names = new Set(Object.keys(form.getFieldsValue(true) as Record<string, unknown>))
  const fields = error.fieldErrors
    .map((e) => ({ name: e.loc[e.loc.length - 1], errors: [e.msg] }))
    .filter((f) => names.has(f.name))
  if (fields.length) form.setFields(fields)
}
