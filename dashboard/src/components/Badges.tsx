import type { JobStatus, Verdict } from "../api/types";

const STATUS_LABELS: Record<JobStatus, string> = {
  QUEUED: "QUEUED",
  RUNNING: "RUNNING",
  COMPLETED: "COMPLETED",
  NEEDS_HUMAN: "NEEDS HUMAN",
  BLOCKED: "BLOCKED",
  FAILED: "FAILED",
};

export function StatusBadge({ status }: { status: JobStatus | null | undefined }) {
  const value = status ?? "QUEUED";
  return (
    <span className={`badge status-${value.toLowerCase()}`} data-testid="status-badge">
      <span className="sr-only">Status: </span>
      {STATUS_LABELS[value] ?? value}
    </span>
  );
}

export function VerdictBadge({ verdict }: { verdict: Verdict | null | undefined }) {
  if (!verdict) return <span className="badge verdict-none">no verdict</span>;
  return (
    <span className={`badge verdict-${verdict}`} data-testid="verdict-badge">
      <span className="sr-only">Verdict: </span>
      {verdict.toUpperCase()}
    </span>
  );
}
