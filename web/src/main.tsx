import { QueryClientProvider } from '@tanstack/react-query'
import { App as AntApp, ConfigProvider } from 'antd'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { RouterProvider } from 'react-router'
import { setUnauthenticatedHandler } from './api/client'
import { queryClient } from './app/query-client'
import { router } from './app/router'
import './main.css'

// A 401 from any request means the session is gone: back to the login page, then here again.
setUnauthenticatedHandler(() => {
  const { pathname, search } = router.state.location
  if (pathname === '/login') return
  void router
    .navigate(`/login?next=${encodeURIComponent(pathname + search)}`, { replace: true })
    .then(() => queryClient.clear())
})

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ConfigProvider
      theme={{
        token: { colorPrimary: '#1668dc', borderRadius: 8 },
        components: { Menu: { itemHeight: 36, itemMarginBlock: 2, groupTitleFontSize: 12 } },
      }}
    >
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  </StrictMode>,
)
