import type { Job } from "../api/types";
import { useServices } from "../context";
import { useTrackedJob } from "../live/hooks";
import { generationWords } from "../lib/format";
import { jobErrorText } from "../lib/jobError";
import { hrefFor } from "../lib/router";
import { AnswerView } from "./AnswerView";
import { StatusBadge } from "./Badges";
import { EvaluationPanel } from "./EvaluationPanel";
import { FeedbackControl } from "./FeedbackControl";
import { StepTimeline } from "./StepTimeline";

interface Props {
  jobId: string;
  question?: string;
  initial?: Job;
  headingLevel?: 2 | 3;
  showDetailsLink?: boolean;
}

export function JobCard({ jobId, question, initial, headingLevel = 3, showDetailsLink = true }: Props) {
  const { tracker } = useServices();
  const job = useTrackedJob(tracker, jobId, initial);
  const result = job?.result ?? null;
  const Heading = headingLevel === 2 ? "h2" : "h3";
  const title = result?.question ?? question ?? "Question";
  return (
    <article className="job-card" aria-label={`Job: ${title}`} data-job-id={jobId}>
      <header className="job-head">
        <Heading className="job-question">{title}</Heading>
        <StatusBadge status={job?.status ?? null} />
      </header>
      {job ? <StepTimeline job={job} /> : null}
      {job?.pollError && !result ? (
        <p className="small flag-bad" role="status">
          Checking the job failed: {job.pollError} (trying again).
        </p>
      ) : null}
      {result && result.status === "FAILED" ? (
        <div className="error-box" role="alert">
          <strong>The job failed:</strong> {jobErrorText(result.error)}. It waits in the failed-jobs queue; an
          operator can replay it under <a href={hrefFor({ page: "operations" })}>Operations</a>.
        </div>
      ) : null}
      {result && result.status !== "FAILED" ? (
        <>
          {result.status === "BLOCKED" ? (
            <p className="notice notice-blocked">This request was blocked by the safety check.</p>
          ) : null}
          {result.status === "NEEDS_HUMAN" ? (
            <p className="notice notice-human">A person will look at this question.</p>
          ) : null}
          <AnswerView text={result.answer ?? ""} sources={result.sources ?? []} evaluation={result.evaluation} />
          {generationWords(result.generation) ? (
            <p className="small muted">{generationWords(result.generation)}</p>
          ) : null}
          {result.status === "COMPLETED" ? <EvaluationPanel evaluation={result.evaluation} /> : null}
          <FeedbackControl jobId={jobId} />
        </>
      ) : null}
      {showDetailsLink ? (
        <p className="small">
          <a href={hrefFor({ page: "job", jobId })}>
            Job details<span className="sr-only"> for {title}</span>
          </a>
          <span className="muted"> · {jobId}</span>
        </p>
      ) : null}
    </article>
  );
}
