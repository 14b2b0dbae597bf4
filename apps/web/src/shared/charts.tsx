import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
} from 'chart.js'
import { useEffect, useRef } from 'react'

// Chart.js is tree-shaken: only the parts a stacked bar chart needs are registered.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip)

export interface BarSeries {
  label: string
  data: number[]
  /** CSS colour; Chart.js picks one when absent. */
  color?: string
}

/**
 * A stacked bar chart on a canvas (Chart.js), redrawn when its data change. The canvas is an
 * image with a text label: every chart in the consoles has its figures in a table beside it.
 */
export function StackedBarChart({
  labels,
  series,
  label,
}: {
  labels: string[]
  series: BarSeries[]
  label: string
}) {
  const canvas = useRef<HTMLCanvasElement>(null)
  useEffect(() => {
    if (!canvas.current) return
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels,
        datasets: series.map((s) => ({
          label: s.label,
          data: s.data,
          ...(s.color ? { backgroundColor: s.color } : {}),
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
      },
    })
    return () => chart.destroy()
  }, [labels, series])
  return (
    <div className="chart">
      <canvas ref={canvas} role="img" aria-label={label} />
    </div>
  )
}
