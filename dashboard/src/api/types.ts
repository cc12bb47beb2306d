// The shapes the HTTP API and the WebSocket send (docs/architecture.md, functions/api/*.py).

export type JobStatus = "QUEUED" | "RUNNING" | "COMPLETED" | "NEEDS_HUMAN" | "BLOCKED" | "FAILED";
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  "COMPLETED",
  "NEEDS_HUMAN",
  "BLOCKED",
  "FAILED",
]);

export function isTerminal(status: JobStatus | null | undefined): boolean {
  return status != null && TERMINAL_STATUSES.has(status);
}

export type StepStatus = "RUNNING" | "COMPLETED" | "FAILED" | "SKIPPED";
export const STEP_NAMES = ["classify", "retrieve", "answer", "evaluate", "persist"] as const;

export interface StepRecord {
  name: string;
  status: StepStatus;
  ms?: number | null;
  started_at?: string | null;
}

export interface Source {
  doc: string;
  section: string;
  chunk_id: string;
  score: number;
  /** The cited chunk's text, when the pipeline stores it with the source. */
  text?: string;
}

export interface PiiFinding {
  type: string;
  text: string;
}

export type Verdict = "pass" | "warn" | "fail";

export interface Evaluation {
  faithfulness?: number | null;
  hallucination?: boolean;
  unsupported_spans?: string[];
  answer_relevance?: number | null;
  context_relevance?: number[];
  context_precision?: number | null;
  refusal?: boolean;
  refusal_correct?: boolean | null;
  pii?: PiiFinding[];
  toxicity?: number;
  toxic?: boolean;
  verdict?: Verdict;
  reasons?: string[];
  [metric: string]: unknown;
}

export interface JobError {
  type?: string;
  message?: string;
  step?: string;
  [key: string]: unknown;
}

/** Who wrote the answer and what it cost (the answer step's record). */
export interface Generation {
  provider?: string;
  model?: string;
  tokens_in?: number;
  tokens_out?: number;
  latency_ms?: number;
  cost_usd?: number;
}

export interface Job {
  job_id: string;
  status: JobStatus;
  question: string;
  session_id: string;
  created_at: string;
  route?: string | null;
  answer?: string | null;
  sources: Source[];
  evaluation?: Evaluation | null;
  steps: StepRecord[];
  error?: JobError | null;
  generation?: Generation | null;
}

/** A row of GET /v1/admin/jobs: no answer or sources (the index does not carry them). */
export interface JobSummary {
  job_id: string;
  status: JobStatus;
  question: string;
  session_id: string;
  created_at: string;
  updated_at?: string | null;
  route?: string | null;
  attempt?: number | null;
  steps: StepRecord[];
  evaluation?: Evaluation | null;
  error?: JobError | null;
}

export interface JobList {
  jobs: JobSummary[];
  count: number;
  status: JobStatus | null;
  limit: number;
}

export interface ChatAccepted {
  job_id: string;
  session_id: string;
  status: JobStatus;
  status_url: string;
  websocket_url: string;
}

export interface SessionTurn {
  job_id: string;
  question: string;
  answer: string | null;
  status: JobStatus | null;
  created_at: string;
}

export interface Session {
  session_id: string;
  turns: SessionTurn[];
}

export interface FeedbackCreated {
  job_id: string;
  feedback_id: string;
}

export interface DeadLetterQueue {
  queue: string;
  url: string;
  source: string;
  source_url: string;
  messages: number;
}

export interface DeadLetter {
  message_id: string;
  kind: "failed_job" | "job_event" | "function_event" | "unreadable";
  job_id: string | null;
  error: JobError | null;
  sent_at: string | null;
  age_seconds: number | null;
  receive_count: number;
  replay_count: number;
  body_preview: string;
}

export interface DeadLetterPeek {
  queue: string;
  source: string;
  depth: number;
  messages: DeadLetter[];
}

export interface ReplayReport {
  queue: string;
  source: string;
  replayed: number;
  dry_run: boolean;
  messages: { message_id: string; job_id?: string; attempt?: number }[];
}

/** A row of GET /v1/documents. */
export interface DocumentStatus {
  doc: string;
  status: "PENDING" | "INDEXED" | "FAILED" | string;
  chunks?: number | null;
  error?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
  indexed_at?: string | null;
}

/** POST /v1/documents answers 202 with this. */
export interface DocumentAccepted {
  doc: string;
  status: "PENDING";
  bytes: number;
  status_url: string;
}

/** WebSocket messages from the server. */
export type ServerMessage =
  | { type: "subscribed"; job_id: string; status: JobStatus }
  | { type: "progress"; job_id: string; step: string; status: StepStatus }
  | ({ type: "result" } & Job)
  | { type: "error"; error: { code: string; message: string } };
