// Work-order priority (docs/upstream.md): 0 urgent, 1 important, 2 normal, 3 minor. A rule's explicit
// priority wins; otherwise it follows the alarm level (5→0, 4→1, 3→2, ≤2→3).

export type WorkOrderPriority = 0 | 1 | 2 | 3;

export function priorityForLevel(level: number): WorkOrderPriority {
  if (level >= 5) return 0;
  if (level === 4) return 1;
  if (level === 3) return 2;
  return 3;
}

export function resolvePriority(rulePriority: number | undefined, level: number): WorkOrderPriority {
  if (rulePriority === 0 || rulePriority === 1 || rulePriority === 2 || rulePriority === 3) return rulePriority;
  return priorityForLevel(level);
}
