import type { ComponentType } from 'react'
import { createBrowserRouter } from 'react-router'
import AppLayout, { NotFoundPage } from '../layout/app-layout'
import { RouteError } from './route-error'
import { FullPageSpin } from './full-page-spin'

// Every page is its own chunk, loaded when first visited.
type PageModule = { default: ComponentType }
const page = (load: () => Promise<PageModule>) => async () => ({ Component: (await load()).default })

export const router = createBrowserRouter([
  {
    path: '/login',
    lazy: page(() => import('../auth/login-page')),
    errorElement: <RouteError />,
    hydrateFallbackElement: <FullPageSpin />,
  },
  {
    path: '/',
    element: <AppLayout />,
    errorElement: <RouteError />,
    hydrateFallbackElement: <FullPageSpin />,
    children: [
      { index: true, lazy: page(() => import('../workspaces/home-page')) },
      { path: 'account', lazy: page(() => import('../account/account-page')) },
      { path: 'admin/users', lazy: page(() => import('../admin/users-page')) },
      { path: 'admin/workspaces', lazy: page(() => import('../admin/workspaces-page')) },
      {
        path: 'w/:workspace',
        children: [
          { index: true, lazy: page(() => import('../workspaces/overview-page')) },
          { path: 'settings/members', lazy: page(() => import('../workspaces/members-page')) },
          { path: 'settings/quota', lazy: page(() => import('../workspaces/quota-page')) },
          { path: 'settings/audit', lazy: page(() => import('../workspaces/audit-page')) },
          { path: 'jobs', lazy: page(() => import('../jobs/jobs-page')) },
          { path: 'jobs/dags/:dagId', lazy: page(() => import('../jobs/dag-page')) },
          { path: 'jobs/:jobId', lazy: page(() => import('../jobs/job-detail-page')) },
          { path: 'workers', lazy: page(() => import('../jobs/workers-page')) },
          { path: 'schedules', lazy: page(() => import('../schedules/schedules-page')) },
          { path: 'notifications', lazy: page(() => import('../notifications/notifications-page')) },
          { path: 'data', lazy: page(() => import('../data/datasets-page')) },
          { path: 'data/connections', lazy: page(() => import('../data/connections-page')) },
          { path: 'data/register', lazy: page(() => import('../data/register-page')) },
          { path: 'data/datasets/:dataset', lazy: page(() => import('../data/dataset-page')) },
          { path: 'pipelines', lazy: page(() => import('../pipelines/pipelines-page')) },
          { path: 'pipelines/:pipeline', lazy: page(() => import('../pipelines/editor-page')) },
          { path: 'pipelines/:pipeline/compare', lazy: page(() => import('../pipelines/compare-page')) },
          { path: 'experiments', lazy: page(() => import('../experiments/experiments-page')) },
          { path: 'experiments/train', lazy: page(() => import('../experiments/train-page')) },
          { path: 'experiments/compare', lazy: page(() => import('../experiments/compare-page')) },
          { path: 'experiments/runs/:run', lazy: page(() => import('../experiments/run-page')) },
          { path: 'experiments/studies/:study', lazy: page(() => import('../experiments/study-page')) },
          { path: 'experiments/:experiment', lazy: page(() => import('../experiments/experiment-page')) },
          { path: ':area', lazy: page(() => import('../areas/coming-page')) },
        ],
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
])
