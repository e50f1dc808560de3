import { Button, Result } from 'antd'
import { useRouteError } from 'react-router'
import { errorMessage } from '../api/client'

/** A page that failed to load or render (for example a stale chunk after an upgrade). */
export function RouteError() {
  const error = useRouteError()
  return (
    <Result
      status="warning"
      title="This page could not be shown"
      subTitle={errorMessage(error)}
      extra={
        <Button type="primary" onClick={() => window.location.reload()}>
          Reload
        </Button>
      }
    />
  )
}
