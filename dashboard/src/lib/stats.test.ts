import { describe, expect, it } from "vitest";
import type { JobSummary } from "../api/types";
import { faithfulnessSeries, percentile, routeMix, stepLatencies, verdictCounts } from "./stats";

function summary(id: string, fields: Partial<JobSummary>): JobSummary {
  return { job_id: id, status: "COMPLETED", question: "q", session_id: "s", created_at: "2026-01-01T00:00:00Z", steps: [], ...fields };
}

const jobs: JobSummary[] = [
  summary("a", {
    route: "rag",
    created_at: "2026-01-01T10:00:00Z",
    evaluation: { verdict: "pass", faithfulness: 1 },
    steps: [
      { name: "retrieve", status: "COMPLETED", ms: 100 },
      { name: "classify", status: "COMPLETED", ms: 2 },
    ],
  }),
  summary("b", {
    route: "rag",
    created_at: "2026-01-01T09:00:00Z",
    evaluation: { verdict: "warn", faithfulness: 0.5 },
    steps: [{ name: "retrieve", status: "COMPLETED", ms: 300 }],
  }),
  summary("c", { route: "blocked", status: "BLOCKED", steps: [{ name: "classify", status: "COMPLETED", ms: 4 }] }),
  summary("d", { route: "direct", evaluation: { verdict: "fail", faithfulness: null } }),
  summary("e", { status: "FAILED", route: "rag", steps: [{ name: "answer", status: "FAILED", ms: 9 }] }),
  summary("f", { route: "weird" }),
];

describe("quality statistics", () => {
  it("percentile interpolates like numpy", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 95)).toBeCloseTo(48);
    expect(percentile([3, 1, 2], 0)).toBe(1);
  });

  it("counts verdicts of completed answers only", () => {
    expect(verdictCounts(jobs)).toEqual({ pass: 1, warn: 1, fail: 1, none: 1 });
  });

  it("mixes routes in pipeline order, unknown ones last", () => {
    expect(routeMix(jobs)).toEqual([
      { route: "rag", count: 3 },
      { route: "direct", count: 1 },
      { route: "blocked", count: 1 },
      { route: "weird", count: 1 },
    ]);
  });

  it("takes p50/p95 of completed steps in pipeline order, failed steps left out", () => {
    expect(stepLatencies(jobs)).toEqual([
      { step: "classify", p50: 3, p95: 3.9, count: 2 },
      { step: "retrieve", p50: 200, p95: 290, count: 2 },
    ]);
  });

  it("orders faithfulness by time and skips answers without it", () => {
    expect(faithfulnessSeries(jobs).map((point) => [point.jobId, point.value])).toEqual([
      ["b", 0.5],
      ["a", 1],
    ]);
  });
});
