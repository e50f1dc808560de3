import dayjs from 'dayjs'

/** "1.5 GiB", "512 MiB". */
export function memory(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toLocaleString(undefined, { maximumFractionDigits: 1 })} GiB` : `${mb.toLocaleString()} MiB`
}

export function cpus(n: number): string {
  return `${n.toLocaleString(undefined, { maximumFractionDigits: 2 })} CPU`
}

/** What a job asks for: "1 CPU · 512 MiB · 1 GPU". */
export function resources(r: { cpus: number; memory_mb: number; gpus: number }): string {
  const parts = [cpus(r.cpus), memory(r.memory_mb)]
  if (r.gpus) parts.push(`${r.gpus} GPU`)
  return parts.join(' · ')
}

/** How long between two moments (until now if the second is missing): "42 s", "3 min 5 s", "2 h 10 min". */
export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from) return '—'
  const seconds = Math.max(0, (to ? dayjs(to) : dayjs()).diff(dayjs(from), 'second', true))
  if (seconds < 10) return `${seconds.toFixed(1)} s`
  if (seconds < 60) return `${Math.round(seconds)} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours} h ${minutes % 60} min`
  return `${Math.floor(hours / 24)} d ${hours % 24} h`
}
