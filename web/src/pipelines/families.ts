// Operator families in the palette's order, with names a person reads.
const FAMILIES: [string, string][] = [
  ['io', 'Input and output'],
  ['sampling', 'Sampling and splitting'],
  ['transform', 'Transform'],
  ['combine', 'Combine'],
  ['cleaning', 'Cleaning'],
  ['scaling', 'Scaling'],
  ['encoding', 'Encoding'],
  ['features', 'Feature generation'],
  ['selection', 'Feature selection'],
  ['statistics', 'Statistics'],
]

const ORDER = new Map(FAMILIES.map(([key], i) => [key, i]))
const NAMES = new Map(FAMILIES)

export function familyName(family: string): string {
  return NAMES.get(family) ?? family.charAt(0).toUpperCase() + family.slice(1)
}

export function familyOrder(family: string): number {
  return ORDER.get(family) ?? FAMILIES.length
}

/** The drag-and-drop payload type of an operator dragged from the palette. */
export const DRAG_TYPE = 'application/x-dais-operator'
