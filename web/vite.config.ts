import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The API server (`dais up` / `dais api`) listens on 127.0.0.1:8765 by default; in development the
// Vite server forwards API calls and one-time login links to it, so cookies stay same-origin.
const API = process.env.DAIS_API_URL ?? 'http://127.0.0.1:8765'

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': API,
      '/login/link': API,
      '/healthz': API,
    },
  },
  build: {
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler|react-router)[\\/]/, priority: 30 },
            { name: 'query', test: /node_modules[\\/]@tanstack[\\/]/, priority: 25 },
            // The graph view's library, loaded only with the DAG page.
            { name: 'flow', test: /node_modules[\\/](@xyflow|d3-[a-z-]+|classcat|zustand)[\\/]/, priority: 22 },
            { name: 'icons', test: /node_modules[\\/]@ant-design[\\/]icons/, priority: 20 },
          ],
        },
      },
    },
  },
})
