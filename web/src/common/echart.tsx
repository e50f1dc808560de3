// A small React wrapper around ECharts. The wrapper loads only the library's core: each page
// registers the charts and components it draws with `echarts.use([...])` (from 'echarts/core'),
// so every area's chunk carries just what it needs.
import * as echarts from 'echarts/core'
import type { CSSProperties } from 'react'
import { useEffect, useRef } from 'react'

export type ChartOption = echarts.EChartsCoreOption

/** Whether the reader asked for less motion (screenshots and browser tests do): charts then draw at once. */
function reducedMotion(): boolean {
  return typeof window !== 'undefined' && !!window.matchMedia?.('(prefers-reduced-motion: reduce)').matches
}

/**
 * One chart: drawn on mount, redrawn when `option` changes, resized with its box, disposed on
 * unmount. `keepView` merges a new option into the chart instead of replacing it (only the series
 * are replaced), so a zoom the reader chose survives a live update.
 */
export function EChart({
  option,
  style,
  testId,
  keepView = false,
  onClick,
}: {
  option: ChartOption
  style?: CSSProperties
  testId?: string
  keepView?: boolean
  onClick?: (params: echarts.ECElementEvent) => void
}) {
  const box = useRef<HTMLDivElement>(null)
  const chart = useRef<echarts.ECharts | null>(null)
  const click = useRef(onClick)
  useEffect(() => {
    click.current = onClick
  }, [onClick])

  useEffect(() => {
    if (!box.current) return
    const instance = echarts.init(box.current, undefined, { renderer: 'canvas' })
    chart.current = instance
    instance.on('click', (params) => click.current?.(params as echarts.ECElementEvent))
    const observer = new ResizeObserver(() => instance.resize())
    observer.observe(box.current)
    return () => {
      observer.disconnect()
      instance.dispose()
      chart.current = null
    }
  }, [])

  useEffect(() => {
    const next = reducedMotion() ? { ...option, animation: false } : option
    chart.current?.setOption(next, keepView ? { replaceMerge: ['series'] } : { notMerge: true })
  }, [option, keepView])

  return <div ref={box} style={{ width: '100%', height: 180, cursor: onClick ? 'pointer' : undefined, ...style }} data-testid={testId} />
}
