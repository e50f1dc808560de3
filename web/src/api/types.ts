// Names for the API's models, generated from the server's OpenAPI document (`make openapi`).
import type { components } from './schema'

type S = components['schemas']

export type Role = S['Role']
export type Me = S['Me']
export type MembershipBrief = S['MembershipBrief']
export type UserRead = S['UserRead']
export type UserPage = S['UserPage']
export type UserCreate = S['UserCreate']
export type UserUpdate = S['UserUpdate']
export type WorkspaceRead = S['WorkspaceRead']
export type WorkspacePage = S['WorkspacePage']
export type WorkspaceCreate = S['WorkspaceCreate']
export type MemberRead = S['MemberRead']
export type MemberPage = S['MemberPage']
export type MemberCreate = S['MemberCreate']
export type QuotaRead = S['QuotaRead']
export type QuotaUpdate = S['QuotaUpdate']
export type TokenRead = S['TokenRead']
export type TokenPage = S['TokenPage']
export type TokenCreate = S['TokenCreate']
export type TokenCreated = S['TokenCreated']
export type AuditRead = S['AuditRead']
export type AuditPage = S['AuditPage']
export type LoginRequest = S['LoginRequest']
export type PasswordChange = S['PasswordChange']

export const ROLES: Role[] = ['owner', 'admin', 'editor', 'viewer', 'annotator', 'reviewer']

export const ROLE_HELP: Record<Role, string> = {
  owner: 'Everything, including deleting the workspace',
  admin: 'Manage members and settings',
  editor: 'Create and change work',
  viewer: 'Read only',
  annotator: 'Label assigned tasks',
  reviewer: 'Review labeled tasks',
}

/** Roles that may manage members and read the audit log. */
export function canManage(role: Role | null | undefined): boolean {
  return role === 'owner' || role === 'admin'
}
