// The areas of the platform (see the requirements), in the order of the main line of data.
// An area that is not built yet says what it will do; it never shows made-up data.

export interface Area {
  key: string
  title: string
  summary: string
  plans: string[]
  /** Built: its pages replace the "coming" page. */
  available?: boolean
}

export const AREAS: Area[] = [
  {
    key: 'data',
    title: 'Data',
    available: true,
    summary: 'Connect sources and register datasets, with a sample, schema and partitions kept for instant preview.',
    plans: [
      'Connections to files and NFS paths, S3, SQL databases (PostgreSQL, MySQL/MariaDB, SQLite) and Hive.',
      'Register a dataset in three steps: check access, pull a small sample for preview, capture the schema.',
      'Hive-style partitions detected automatically; pick partitions or use a dynamic one such as yesterday.',
      'Upload data the platform cannot reach; images and video keep only metadata, shown through a proxy.',
      'Versions of a dataset written by pipelines and labeling exports.',
    ],
  },
  {
    key: 'labeling',
    title: 'Labeling',
    summary: 'Label images and text by hand, then with model pre-labels that people confirm and correct.',
    plans: [
      'Image tools (class, box, polygon) and text tools (class, spans).',
      'A workflow for crowd work: assign, label, review, then accept or send back.',
      'Pre-labels from batch prediction with a registered model.',
      'Export as a dataset version in Dais JSON, COCO, Pascal VOC, YOLO, Label Studio or CSV/JSONL.',
    ],
  },
  {
    key: 'pipelines',
    title: 'Pipelines',
    available: true,
    summary: 'Build feature-processing pipelines as a graph of operators, by drag and drop with parameter forms.',
    plans: [
      'Operators for sources and sinks, sampling and splitting, cleaning, transformation, feature generation (expressions, SQL), selection and statistics.',
      'Each operator sees its inputs and their types and derives its outputs; the whole pipeline is validated.',
      'A fast mode on a sample; per-operator status, logs and output samples.',
      'Runs on DuckDB, or Spark for big data; scheduled runs with alerts by email or webhook.',
    ],
  },
  {
    key: 'experiments',
    title: 'Training & experiments',
    available: true,
    summary: 'Train preset algorithms from the UI, track runs and compare them side by side.',
    plans: [
      'Preset algorithms (scikit-learn, LightGBM, XGBoost, PyTorch) with parameters set in a form.',
      'Live logs and metric charts; many runs compared side by side.',
      'Tuning studies (random search and smarter searches) with a cost limit.',
      'The MLflow tracking client works unchanged against Dais, so existing training code moves over.',
    ],
  },
  {
    key: 'models',
    title: 'Models',
    summary: 'A registry of models and their versions, with aliases, packages and runtimes.',
    plans: [
      'Registered models with versions side by side and aliases such as "production".',
      'MLflow-compatible model packages that carry their fitted feature transforms.',
      'Runtimes for scikit-learn, LightGBM, XGBoost, PyTorch, ONNX and MLflow pyfunc.',
    ],
  },
  {
    key: 'endpoints',
    title: 'Endpoints',
    summary: 'Serve model versions online over REST and gRPC, and predict over datasets in batch.',
    plans: [
      'Open Inference Protocol (KServe V2) and MLflow /invocations payloads.',
      'Canary releases and A/B tests split by weight, header or cookie.',
      'A token per endpoint, health probes, autoscaling settings, metrics and logs.',
      'Batch prediction jobs over a dataset version (also used for pre-labeling).',
    ],
  },
  {
    key: 'jobs',
    title: 'Jobs',
    available: true,
    summary: 'Every batch job of the workspace: queued, running and finished, with logs and resources.',
    plans: [
      'A queue with leases and retries; jobs scheduled by free resources, quota and priority.',
      'Dependent jobs as DAGs, and cron schedules.',
      'Status, logs and resource use of each job; cancel and retry.',
      'Local workers by default, Ray and Spark for distributed work.',
    ],
  },
  {
    key: 'notebooks',
    title: 'Notebooks',
    summary: 'A hosted JupyterLab per user that reaches everything in the workspace through the SDK.',
    plans: [
      'Environments per framework, on CPU or GPU, with persistent storage.',
      'Built-in demos: read platform data, submit jobs, log runs.',
      'Idle notebooks are reclaimed and restart later in the same environment.',
    ],
  },
]

export function areaByKey(key: string): Area | undefined {
  return AREAS.find((a) => a.key === key)
}
