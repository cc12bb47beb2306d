import { STEP_NAMES } from "../api/types";
import { formatMs, routeWords } from "../lib/format";
import type { StepView, TrackedJob } from "../live/jobTracker";
import { useNow } from "../live/hooks";

const ICONS: Record<string, string> = { RUNNING: "…", COMPLETED: "✓", FAILED: "✗", SKIPPED: "–" };
const WORDS: Record<string, string> = { RUNNING: "running", COMPLETED: "done", FAILED: "failed", SKIPPED: "skipped" };

function duration(step: StepView, now: number): string {
  if (step.status === "RUNNING") {
    return step.seenAt !== null ? `${formatMs(Math.max(0, now - step.seenAt))} so far` : "running";
  }
  if (step.ms === null) return "";
  return step.recorded ? formatMs(step.ms) : `≈ ${formatMs(step.ms)}`;
}

export function StepTimeline({ job }: { job: TrackedJob }) {
  const running = job.steps.some((step) => step.status === "RUNNING") && !job.result;
  const now = useNow(running);
  const finished = job.result !== null;
  const taken = new Set(job.steps.map((step) => step.name));
  const skipped = finished ? STEP_NAMES.filter((name) => !taken.has(name)) : [];
  return (
    <section className="steps" aria-label="Pipeline steps">
      <ol className="step-list" aria-live="polite">
        {job.steps.map((step) => (
          <li key={step.name} className={`step step-${step.status.toLowerCase()}`} data-step={step.name}>
            <span className="step-icon" aria-hidden="true">
              {ICONS[step.status] ?? "?"}
            </span>
            <span className="step-name">{step.name}</span>
            <span className="sr-only"> {WORDS[step.status] ?? step.status}</span>
            <span className="step-ms">{duration(step, now)}</span>
          </li>
        ))}
        {!finished ? (
          <li className="step step-waiting">
            <span className="step-icon spinner" aria-hidden="true" />
            <span className="step-name">{job.steps.length === 0 ? "waiting to start" : "next step…"}</span>
          </li>
        ) : null}
      </ol>
      {finished ? (
        <p className="route-note">
          Route: <strong>{routeWords(job.result?.route)}</strong>
          {job.result?.route ? <span className="muted"> ({job.result.route})</span> : null}
          {skipped.length > 0 ? <span className="muted">; not run: {skipped.join(", ")}</span> : null}
        </p>
      ) : null}
    </section>
  );
}
