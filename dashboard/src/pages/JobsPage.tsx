import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import type { JobList, JobStatus } from "../api/types";
import { AdminTokenForm } from "../components/AdminTokenForm";
import { StatusBadge, VerdictBadge } from "../components/Badges";
import { ErrorMessage } from "../components/ErrorMessage";
import { useServices } from "../context";
import { formatScore, formatTime } from "../lib/format";
import { hrefFor } from "../lib/router";

const FILTERS: { value: JobStatus | null; label: string }[] = [
  { value: null, label: "All" },
  { value: "COMPLETED", label: "Completed" },
  { value: "NEEDS_HUMAN", label: "Needs human" },
  { value: "BLOCKED", label: "Blocked" },
  { value: "FAILED", label: "Failed" },
];

export function JobsPage() {
  const { client, adminTokenVersion } = useServices();
  const [status, setStatus] = useState<JobStatus | null>(null);
  const [data, setData] = useState<JobList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  const latest = useRef(0);
  const load = useCallback(async () => {
    // Only the newest request may fill the table: an older, slower one (another filter) must not win.
    const request = ++latest.current;
    setLoading(true);
    setError(null);
    try {
      const list = await client.listJobs(status, 100);
      if (request === latest.current) setData(list);
    } catch (failure) {
      if (request === latest.current) {
        setError(failure);
        setData(null);
      }
    } finally {
      if (request === latest.current) setLoading(false);
    }
  }, [client, status]);

  useEffect(() => {
    void load();
  }, [load, adminTokenVersion]);

  const needsToken = error instanceof ApiError && error.needsAdminToken;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Jobs</h1>
        <button type="button" onClick={() => void load()} disabled={loading}>
          {loading ? "Loading…" : "Refresh"}
        </button>
      </div>
      <fieldset className="filters">
        <legend>Show jobs</legend>
        {FILTERS.map((filter) => (
          <label key={filter.label} className="chip">
            <input
              type="radio"
              name="status-filter"
              value={filter.value ?? ""}
              checked={status === filter.value}
              onChange={() => setStatus(filter.value)}
            />
            {filter.label}
          </label>
        ))}
      </fieldset>
      {needsToken ? <AdminTokenForm /> : <ErrorMessage error={error} title="Jobs could not be loaded" />}
      {data ? (
        data.jobs.length === 0 ? (
          <p className="muted">No {status ? status.replace("_", " ").toLowerCase() : ""} jobs yet.</p>
        ) : (
          <div className="table-scroll" role="region" aria-label="Recent jobs" tabIndex={0}>
            <table className="jobs-table">
              <caption className="sr-only">Recent jobs, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Question</th>
                  <th scope="col">Status</th>
                  <th scope="col">Route</th>
                  <th scope="col">Verdict</th>
                  <th scope="col">Faithfulness</th>
                  <th scope="col">Asked</th>
                </tr>
              </thead>
              <tbody>
                {data.jobs.map((job) => (
                  <tr key={job.job_id} data-job-id={job.job_id}>
                    <th scope="row" className="question-cell">
                      <a href={hrefFor({ page: "job", jobId: job.job_id })}>{job.question}</a>
                    </th>
                    <td>
                      <StatusBadge status={job.status} />
                      {job.attempt && job.attempt > 1 ? (
                        <span className="small muted nowrap"> attempt {job.attempt}</span>
                      ) : null}
                    </td>
                    <td>{job.route ?? "—"}</td>
                    <td>{job.evaluation ? <VerdictBadge verdict={job.evaluation.verdict} /> : "—"}</td>
                    <td>{formatScore(job.evaluation?.faithfulness as number | undefined)}</td>
                    <td className="nowrap">{formatTime(job.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </div>
  );
}
