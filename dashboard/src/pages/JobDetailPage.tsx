import { useEffect, useState } from "react";
import type { Job } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { JobCard } from "../components/JobCard";
import { useServices } from "../context";
import { formatTime } from "../lib/format";
import { hrefFor } from "../lib/router";

export function JobDetailPage({ jobId }: { jobId: string }) {
  const { client } = useServices();
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let current = true;
    setJob(null);
    setError(null);
    client.getJob(jobId).then(
      (loaded) => current && setJob(loaded),
      (failure) => current && setError(failure),
    );
    return () => {
      current = false;
    };
  }, [client, jobId]);

  return (
    <div className="page">
      <p className="small">
        <a href={hrefFor({ page: "jobs" })}>← All jobs</a>
      </p>
      <h1>Job details</h1>
      <ErrorMessage error={error} title="This job could not be loaded" />
      {!job && !error ? <p className="muted">Loading…</p> : null}
      {job ? (
        <>
          <dl className="job-meta">
            <div>
              <dt>Job</dt>
              <dd>
                <code>{job.job_id}</code>
              </dd>
            </div>
            <div>
              <dt>Session</dt>
              <dd>
                <code>{job.session_id}</code>
              </dd>
            </div>
            <div>
              <dt>Asked</dt>
              <dd>{formatTime(job.created_at)}</dd>
            </div>
          </dl>
          <JobCard jobId={job.job_id} initial={job} headingLevel={2} showDetailsLink={false} />
        </>
      ) : null}
    </div>
  );
}
