// What the Quality page charts, computed from recent jobs (GET /v1/admin/jobs).

import { STEP_NAMES, type JobSummary, type Verdict } from "../api/types";

/** Linear-interpolated percentile (numpy's default), p in [0, 100]; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const weight = rank - low;
  return sorted[low]! * (1 - weight) + sorted[high]! * weight;
}

export type VerdictKey = Verdict | "none";

export function verdictCounts(jobs: readonly JobSummary[]): Record<VerdictKey, number> {
  const counts: Record<VerdictKey, number> = { pass: 0, warn: 0, fail: 0, none: 0 };
  for (const job of jobs) {
    if (job.status !== "COMPLETED") continue;
    const verdict = job.evaluation?.verdict;
    counts[verdict === "pass" || verdict === "warn" || verdict === "fail" ? verdict : "none"] += 1;
  }
  return counts;
}

export function routeMix(jobs: readonly JobSummary[]): { route: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const job of jobs) {
    if (!job.route) continue;
    counts.set(job.route, (counts.get(job.route) ?? 0) + 1);
  }
  const known = ["rag", "direct", "human_review", "blocked"];
  return [...counts.entries()]
    .sort((a, b) => {
      const ia = known.indexOf(a[0]);
      const ib = known.indexOf(b[0]);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a[0].localeCompare(b[0]);
    })
    .map(([route, count]) => ({ route, count }));
}

export interface StepLatency {
  step: string;
  p50: number;
  p95: number;
  count: number;
}

export function stepLatencies(jobs: readonly JobSummary[]): StepLatency[] {
  const byStep = new Map<string, number[]>();
  for (const job of jobs) {
    for (const step of job.steps ?? []) {
      if (step.status !== "COMPLETED" || typeof step.ms !== "number") continue;
      const list = byStep.get(step.name) ?? [];
      list.push(step.ms);
      byStep.set(step.name, list);
    }
  }
  const order = (name: string) => {
    const index = (STEP_NAMES as readonly string[]).indexOf(name);
    return index < 0 ? 99 : index;
  };
  return [...byStep.entries()]
    .sort((a, b) => order(a[0]) - order(b[0]) || a[0].localeCompare(b[0]))
    .map(([step, values]) => ({
      step,
      p50: percentile(values, 50)!,
      p95: percentile(values, 95)!,
      count: values.length,
    }));
}

export interface FaithfulnessPoint {
  jobId: string;
  time: number;
  value: number;
}

export function faithfulnessSeries(jobs: readonly JobSummary[]): FaithfulnessPoint[] {
  return jobs
    .filter((job) => typeof job.evaluation?.faithfulness === "number")
    .map((job) => ({ jobId: job.job_id, time: Date.parse(job.created_at), value: job.evaluation!.faithfulness as number }))
    .filter((point) => Number.isFinite(point.time))
    .sort((a, b) => a.time - b.time);
}
