import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api/client";
import type { JobSummary } from "../api/types";
import { AdminTokenForm } from "../components/AdminTokenForm";
import { BarChart, FaithfulnessChart, LatencyChart } from "../components/Charts";
import { ErrorMessage } from "../components/ErrorMessage";
import { useServices } from "../context";
import { faithfulnessSeries, routeMix, stepLatencies, verdictCounts } from "../lib/stats";

const SAMPLE = 200;

export function QualityPage() {
  const { client, adminTokenVersion } = useServices();
  const [jobs, setJobs] = useState<JobSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setJobs((await client.listJobs(null, SAMPLE)).jobs);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load, adminTokenVersion]);

  const verdicts = jobs ? verdictCounts(jobs) : null;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Quality overview</h1>
        <button type="button" onClick={() => void load()} disabled={loading}>
          {loading ? "Loading…" : "Refresh"}
        </button>
      </div>
      {error instanceof ApiError && error.needsAdminToken ? (
        <AdminTokenForm />
      ) : (
        <ErrorMessage error={error} title="Recent jobs could not be loaded" />
      )}
      {jobs && verdicts ? (
        <>
          <p className="muted">
            Over the {jobs.length} most recent job{jobs.length === 1 ? "" : "s"} (at most {SAMPLE}).
          </p>
          <div className="chart-grid">
            <BarChart
              title="Verdicts of completed answers"
              empty="No completed answers yet."
              bars={[
                { label: "pass", value: verdicts.pass, tone: "pass" },
                { label: "warn", value: verdicts.warn, tone: "warn" },
                { label: "fail", value: verdicts.fail, tone: "fail" },
                ...(verdicts.none ? [{ label: "not evaluated", value: verdicts.none, tone: "none" }] : []),
              ]}
            />
            <BarChart
              title="Route mix"
              empty="No classified jobs yet."
              bars={routeMix(jobs).map((entry) => ({ label: entry.route, value: entry.count, tone: entry.route }))}
            />
            <FaithfulnessChart points={faithfulnessSeries(jobs)} />
            <LatencyChart latencies={stepLatencies(jobs)} />
          </div>
        </>
      ) : null}
    </div>
  );
}
