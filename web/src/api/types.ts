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

export type JobState = S['JobState']
export type JobRead = S['JobRead']
export type JobDetail = S['JobDetail']
export type JobPage = S['JobPage']
export type JobSubmit = S['JobSubmit']
export type AttemptRead = S['AttemptRead']
export type Resources = S['Resources']
export type DagRead = S['DagRead']
export type DagSubmit = S['DagSubmit']
export type WorkerRead = S['WorkerRead']
export type KindRead = S['KindRead']

/** Roles that may submit, cancel and retry work in a workspace (platform admins without a role too). */
export function canEdit(role: Role | null | undefined, isAdmin = false): boolean {
  if (role === null || role === undefined) return isAdmin
  return role === 'owner' || role === 'admin' || role === 'editor'
}

export type ScheduleRead = S['ScheduleRead']
export type SchedulePage = S['SchedulePage']
export type ScheduleCreate = S['ScheduleCreate']
export type ScheduleRunRead = S['ScheduleRunRead']
export type ScheduleRunPage = S['ScheduleRunPage']
export type ChannelRead = S['ChannelRead']
export type ChannelPage = S['ChannelPage']
export type ChannelCreate = S['ChannelCreate']
export type ChannelCreated = S['ChannelCreated']
export type ChannelTestResult = S['ChannelTestResult']
export type RuleRead = S['RuleRead']
export type RulePage = S['RulePage']
export type RuleCreate = S['RuleCreate']
export type RuleUpdate = S['RuleUpdate']
export type RuleEvent = S['RuleEvent']
export type DeliveryRead = S['DeliveryRead']
export type DeliveryPage = S['DeliveryPage']
export type DeliveryState = S['DeliveryState']
export type NotifierKindRead = S['NotifierKindRead']
