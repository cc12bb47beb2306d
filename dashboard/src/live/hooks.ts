import { useEffect, useState } from "react";
import type { Job } from "../api/types";
import type { JobTracker, LinkState, TrackedJob } from "./jobTracker";

/** The live state of one job; follows it while the component is mounted. */
export function useTrackedJob(tracker: JobTracker, jobId: string | null, initial?: Job): TrackedJob | undefined {
  const [job, setJob] = useState<TrackedJob | undefined>(() => (jobId ? tracker.snapshot(jobId) : undefined));
  useEffect(() => {
    if (!jobId) {
      setJob(undefined);
      return undefined;
    }
    return tracker.track(jobId, setJob, initial);
    // `initial` only seeds the first subscription; later renders must not re-track.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tracker, jobId]);
  return job;
}

export function useLinkState(tracker: JobTracker): LinkState {
  const [state, setState] = useState<LinkState>(() => tracker.linkState());
  useEffect(() => tracker.onLink(setState), [tracker]);
  return state;
}

/** The current time, refreshed every `intervalMs` while `active` (live elapsed times). */
export function useNow(active: boolean, intervalMs = 200): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}
