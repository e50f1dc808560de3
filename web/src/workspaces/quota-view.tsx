import { Descriptions } from 'antd'
import type { QuotaRead } from '../api/types'
import { limit, memory } from './quota-format'

export function QuotaDescriptions({ quota, column = 2 }: { quota: QuotaRead; column?: number }) {
  return (
    <Descriptions
      column={column}
      size="small"
      items={[
        { key: 'jobs', label: 'Concurrent jobs', children: limit(quota.max_concurrent_jobs) },
        { key: 'cpus', label: 'CPUs', children: limit(quota.max_cpus) },
        { key: 'memory', label: 'Memory', children: memory(quota.max_memory_mb) },
        { key: 'gpus', label: 'GPUs', children: limit(quota.max_gpus) },
        { key: 'priority', label: 'Job priority', children: quota.priority },
      ]}
    />
  )
}
