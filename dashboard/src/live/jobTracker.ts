// Follows jobs live: one WebSocket for every tracked job, with polling of GET /v1/jobs/{id} behind it so
// that no result is ever missed.
//
// * The socket subscribes to each job ({"action": "subscribe", "job_id"}); the server answers
//   `subscribed`, re-sends the steps already done, then pushes `progress` per step and one `result`.
// * When the socket closes (or never opens) it is reopened with exponential backoff and jitter, and every
//   unfinished job is subscribed again. While it is down, unfinished jobs are polled every `pollMs`.
// * While it is up, unfinished jobs are still polled every `safetyPollMs`: a push lost on the way
//   (a notify message in its DLQ, a dropped frame) only delays the result, it never loses it.
// * A result is delivered once, whichever path brings it first. Steps are keyed by name and never go
//   back from finished to running (pushes may arrive out of order); durations come from the job record
//   when known, and are measured in the browser until then.

import { isTerminal, type Job, type JobStatus, type ServerMessage, type StepRecord, type StepStatus } from "../api/types";

export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

const OPEN = 1;

export type LinkState =
  | { kind: "idle" }
  | { kind: "connecting"; attempt: number }
  | { kind: "live" }
  | { kind: "reconnecting"; attempt: number; retryInMs: number; polling: boolean };

export interface StepView {
  name: string;
  status: StepStatus;
  /** Duration in ms: from the job record when `recorded`, else measured here from the first push. */
  ms: number | null;
  recorded: boolean;
  /** When this browser first saw the step running (for a live elapsed time). */
  seenAt: number | null;
}

export interface TrackedJob {
  jobId: string;
  status: JobStatus | null;
  steps: StepView[];
  result: Job | null;
  /** Which path delivered the result. */
  via: "websocket" | "polling" | null;
  /** The last polling failure, in words (cleared by the next success). */
  pollError: string | null;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0.2 = each delay is drawn from ±20% around its nominal value. */
  jitter: number;
}

export interface TrackerOptions {
  wsUrl: string;
  fetchJob: (jobId: string) => Promise<Job>;
  createSocket?: (url: string) => SocketLike;
  now?: () => number;
  random?: () => number;
  backoff?: Partial<Backoff>;
  pollMs?: number;
  safetyPollMs?: number;
}

type JobListener = (job: TrackedJob) => void;
type LinkListener = (state: LinkState) => void;

const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 15000, factor: 2, jitter: 0.2 };
const STATUS_RANK: Record<StepStatus, number> = { RUNNING: 0, SKIPPED: 1, COMPLETED: 1, FAILED: 1 };

export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const nominal = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** attempt);
  const spread = 1 - backoff.jitter + 2 * backoff.jitter * random();
  return Math.round(Math.min(backoff.maxMs, nominal * spread));
}

export class JobTracker {
  private readonly options: Required<Omit<TrackerOptions, "backoff">> & { backoff: Backoff };
  private socket: SocketLike | null = null;
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly listeners = new Map<string, Set<JobListener>>();
  private readonly linkListeners = new Set<LinkListener>();
  private link: LinkState = { kind: "idle" };
  private failures = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;
  private closed = false;

  constructor(options: TrackerOptions) {
    this.options = {
      wsUrl: options.wsUrl,
      fetchJob: options.fetchJob,
      createSocket: options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
      now: options.now ?? (() => Date.now()),
      random: options.random ?? Math.random,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      pollMs: options.pollMs ?? 2000,
      safetyPollMs: options.safetyPollMs ?? 15000,
    };
  }

  // ------------------------------------------------------------------ public API

  /** Follow a job; `listener` gets a snapshot now (if known) and on every change. Returns "stop listening". */
  track(jobId: string, listener?: JobListener, initial?: Job): () => void {
    let job = this.jobs.get(jobId);
    if (!job) {
      job = { jobId, status: null, steps: [], result: null, via: null, pollError: null };
      this.jobs.set(jobId, job);
    }
    if (initial) {
      // A fresher read than what was kept (the job was replayed since): start again from it.
      if (job.result && job.result.status !== initial.status) {
        job = { jobId, status: null, steps: [], result: null, via: null, pollError: null };
        this.jobs.set(jobId, job);
      }
      this.applyJob(initial, "polling");
    }
    if (listener) {
      const set = this.listeners.get(jobId) ?? new Set<JobListener>();
      set.add(listener);
      this.listeners.set(jobId, set);
      listener(this.snapshot(jobId)!);
    }
    this.follow(jobId);
    return () => {
      if (listener) this.listeners.get(jobId)?.delete(listener);
    };
  }

  /** Forget a finished job's result and follow it again (after a replay restarts it under the same id). */
  restart(jobId: string): void {
    this.jobs.set(jobId, { jobId, status: "QUEUED", steps: [], result: null, via: null, pollError: null });
    this.emit(jobId);
    this.follow(jobId);
  }

  snapshot(jobId: string): TrackedJob | undefined {
    const job = this.jobs.get(jobId);
    return job ? { ...job, steps: job.steps.map((step) => ({ ...step })) } : undefined;
  }

  linkState(): LinkState {
    return this.link;
  }

  onLink(listener: LinkListener): () => void {
    this.linkListeners.add(listener);
    listener(this.link);
    return () => this.linkListeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
    this.setLink({ kind: "idle" });
  }

  // ------------------------------------------------------------------ socket

  private follow(jobId: string): void {
    if (this.closed || this.isDone(jobId)) return;
    if (this.socket && this.socket.readyState === OPEN) this.subscribe(jobId);
    else if (!this.socket && !this.reconnectTimer) this.connect();
    this.schedulePoll(false);
  }

  private connect(): void {
    if (this.closed || this.socket) return;
    this.setLink({ kind: "connecting", attempt: this.failures });
    let socket: SocketLike;
    try {
      socket = this.options.createSocket(this.options.wsUrl);
    } catch {
      this.onSocketClosed(null);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.failures = 0;
      this.setLink({ kind: "live" });
      for (const jobId of this.activeJobIds()) this.subscribe(jobId);
      this.schedulePoll(true);
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.onMessage(event.data);
    };
    socket.onerror = () => {
      // A close event follows every error; reconnecting is handled there.
    };
    socket.onclose = () => this.onSocketClosed(socket);
  }

  private onSocketClosed(socket: SocketLike | null): void {
    if (socket !== null && this.socket !== socket) return;
    this.socket = null;
    if (this.closed) return;
    const active = this.activeJobIds();
    if (active.length === 0) {
      // Nothing to follow: reconnect when the next job is tracked rather than loop in the background.
      this.setLink({ kind: "idle" });
      this.clearTimers();
      return;
    }
    const delay = backoffDelay(this.failures, this.options.backoff, this.options.random);
    this.failures += 1;
    this.setLink({ kind: "reconnecting", attempt: this.failures, retryInMs: delay, polling: true });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      // Everything finished meanwhile (found by polling): reconnect when the next job is tracked.
      if (this.activeJobIds().length === 0) this.setLink({ kind: "idle" });
      else this.connect();
    }, delay);
    this.schedulePoll(true, 0);
  }

  private subscribe(jobId: string): void {
    try {
      this.socket?.send(JSON.stringify({ action: "subscribe", job_id: jobId }));
    } catch {
      // The socket is closing; its close event reconnects and subscribes again.
    }
  }

  private onMessage(data: unknown): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(typeof data === "string" ? data : String(data)) as ServerMessage;
    } catch {
      return;
    }
    switch (message.type) {
      case "subscribed":
        this.applyStatus(message.job_id, message.status);
        break;
      case "progress":
        this.applyStep(message.job_id, { name: message.step, status: message.status });
        break;
      case "result":
        this.applyJob(message, "websocket");
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------------------------ polling

  private schedulePoll(reset: boolean, delayMs?: number): void {
    if (this.closed) return;
    if (this.activeJobIds().length === 0) {
      if (this.pollTimer) clearTimeout(this.pollTimer);
      this.pollTimer = null;
      return;
    }
    if (this.pollTimer && !reset) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    const interval = this.link.kind === "live" ? this.options.safetyPollMs : this.options.pollMs;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.pollOnce().finally(() => this.schedulePoll(false));
    }, delayMs ?? interval);
  }

  private async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await Promise.all(
        this.activeJobIds().map(async (jobId) => {
          try {
            const job = await this.options.fetchJob(jobId);
            const tracked = this.jobs.get(jobId);
            if (tracked && tracked.pollError) tracked.pollError = null;
            this.applyJob(job, "polling");
          } catch (error) {
            const tracked = this.jobs.get(jobId);
            if (tracked) {
              tracked.pollError = error instanceof Error ? error.message : String(error);
              this.emit(jobId);
            }
          }
        }),
      );
    } finally {
      this.polling = false;
    }
  }

  // ------------------------------------------------------------------ state

  private applyStatus(jobId: string, status: JobStatus): void {
    const job = this.jobs.get(jobId);
    if (!job || job.result || isTerminal(status)) return; // a terminal status comes with its result
    if (job.status !== status) {
      job.status = status;
      this.emit(jobId);
    }
  }

  private applyStep(jobId: string, record: StepRecord): void {
    const job = this.jobs.get(jobId);
    if (!job || job.result) return;
    if (this.mergeStep(job, record)) {
      if (job.status === null || job.status === "QUEUED") job.status = "RUNNING";
      this.emit(jobId);
    }
  }

  private mergeStep(job: TrackedJob, record: StepRecord): boolean {
    const now = this.options.now();
    const recordedMs = typeof record.ms === "number" ? record.ms : null;
    const existing = job.steps.find((step) => step.name === record.name);
    if (!existing) {
      job.steps.push({
        name: record.name,
        status: record.status,
        ms: recordedMs,
        recorded: recordedMs !== null,
        seenAt: now,
      });
      return true;
    }
    if (STATUS_RANK[record.status] < STATUS_RANK[existing.status]) return false; // late, out-of-order push
    let changed = false;
    if (existing.status !== record.status) {
      existing.status = record.status;
      changed = true;
      if (recordedMs === null && !existing.recorded && existing.seenAt !== null && record.status !== "RUNNING") {
        existing.ms = now - existing.seenAt;
      }
    }
    if (recordedMs !== null && (existing.ms !== recordedMs || !existing.recorded)) {
      existing.ms = recordedMs;
      existing.recorded = true;
      changed = true;
    }
    return changed;
  }

  private applyJob(job: Job, via: "websocket" | "polling"): void {
    const tracked = this.jobs.get(job.job_id);
    if (!tracked || tracked.result) return;
    let changed = false;
    for (const step of job.steps ?? []) changed = this.mergeStep(tracked, step) || changed;
    if (isTerminal(job.status)) {
      // The job record is the truth at the end: its steps, in its order, with recorded durations.
      const order = new Map((job.steps ?? []).map((step, index) => [step.name, index]));
      tracked.steps.sort((a, b) => (order.get(a.name) ?? 99) - (order.get(b.name) ?? 99));
      tracked.result = job;
      tracked.status = job.status;
      tracked.via = via;
      changed = true;
    } else if (tracked.status !== job.status && !(job.status === "QUEUED" && tracked.steps.length > 0)) {
      tracked.status = job.status;
      changed = true;
    }
    if (changed) this.emit(job.job_id);
    if (isTerminal(job.status) && this.activeJobIds().length === 0) this.schedulePoll(true);
  }

  private isDone(jobId: string): boolean {
    return this.jobs.get(jobId)?.result != null;
  }

  private activeJobIds(): string[] {
    return [...this.jobs.values()].filter((job) => job.result === null).map((job) => job.jobId);
  }

  private emit(jobId: string): void {
    const listeners = this.listeners.get(jobId);
    if (!listeners || listeners.size === 0) return;
    const snapshot = this.snapshot(jobId)!;
    for (const listener of [...listeners]) listener(snapshot);
  }

  private setLink(state: LinkState): void {
    this.link = state;
    for (const listener of [...this.linkListeners]) listener(state);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.reconnectTimer = null;
    this.pollTimer = null;
  }
}
