// The HTTP API client. Every failure becomes an ApiError whose message a person can read: the API's own
// `{"error": {"code", "message"}}` when it sent one, otherwise what went wrong in plain words.

import type {
  ChatAccepted,
  DeadLetterPeek,
  DocumentAccepted,
  DeadLetterQueue,
  DocumentStatus,
  FeedbackCreated,
  Job,
  JobList,
  JobStatus,
  ReplayReport,
  Session,
} from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }

  get needsAdminToken(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

const STATUS_WORDS: Record<number, string> = {
  400: "the request was not understood",
  401: "this needs the admin token",
  403: "the admin token was refused",
  404: "it was not found",
  409: "it conflicts with an earlier request",
  413: "the request is too large",
  415: "this kind of file is not supported",
  422: "the request is not valid",
  429: "too many requests: wait a moment and try again",
  500: "the server failed",
  502: "the API is not reachable behind the gateway",
  503: "the service is temporarily unavailable",
  504: "the API took too long to answer",
};

export function describeStatus(status: number): string {
  return STATUS_WORDS[status] ?? `the API answered with status ${status}`;
}

/** What to show a person for any error thrown by the client (or anything else). */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export interface ClientOptions {
  fetch?: typeof fetch;
  /** The admin token to send to /v1/admin routes, if any. */
  adminToken?: () => string | null;
  timeoutMs?: number;
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  admin?: boolean;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly adminToken: () => string | null;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.adminToken = options.adminToken ?? (() => null);
    this.timeoutMs = options.timeoutMs ?? 15000;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    let body: BodyInit | undefined = options.rawBody;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const token = options.admin ? this.adminToken() : null;
    if (token) headers.authorization = `Bearer ${token}`;

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(url.toString(), { method, headers, body, signal: controller.signal });
    } catch (error) {
      const aborted = controller.signal.aborted;
      throw new ApiError(
        0,
        aborted ? "timeout" : "network",
        aborted
          ? `The API at ${this.baseUrl} did not answer within ${Math.round(this.timeoutMs / 1000)} s.`
          : `Could not reach the API at ${this.baseUrl}. Is the stack running? (${errorText(error)})`,
      );
    } finally {
      clearTimeout(timer);
    }
    const text = await response.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const apiError = (data as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      const code = typeof apiError?.code === "string" ? apiError.code : `http_${response.status}`;
      const detail = typeof apiError?.message === "string" ? apiError.message : null;
      const what = describeStatus(response.status);
      const message = detail
        ? `${capitalize(what)} (${response.status}): ${detail}`
        : `${capitalize(what)} (${response.status} ${response.statusText || ""}`.trimEnd() + ").";
      throw new ApiError(response.status, code, message);
    }
    if (text && data === null) {
      throw new ApiError(
        response.status,
        "bad_response",
        `The API answered ${method} ${path} with something that is not JSON (is this route deployed?).`,
      );
    }
    return data as T;
  }

  chat(question: string, sessionId?: string | null): Promise<ChatAccepted> {
    const body: Record<string, string> = { question };
    if (sessionId) body.session_id = sessionId;
    return this.request("POST", "/v1/chat", { body });
  }

  getJob(jobId: string): Promise<Job> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(jobId)}`);
  }

  getSession(sessionId: string): Promise<Session> {
    return this.request("GET", `/v1/sessions/${encodeURIComponent(sessionId)}`);
  }

  feedback(jobId: string, rating: "up" | "down", comment?: string): Promise<FeedbackCreated> {
    const body: Record<string, string> = { job_id: jobId, rating };
    if (comment && comment.trim()) body.comment = comment.trim();
    return this.request("POST", "/v1/feedback", { body });
  }

  listJobs(status: JobStatus | null, limit = 50): Promise<JobList> {
    return this.request("GET", "/v1/admin/jobs", { query: { status, limit }, admin: true });
  }

  listDlqs(): Promise<{ dlqs: DeadLetterQueue[] }> {
    return this.request("GET", "/v1/admin/dlqs", { admin: true });
  }

  peekDlq(queue: string, limit = 20): Promise<DeadLetterPeek> {
    return this.request("GET", `/v1/admin/dlqs/${encodeURIComponent(queue)}/messages`, {
      query: { limit },
      admin: true,
    });
  }

  replayDlq(queue: string, max: number, dryRun: boolean): Promise<ReplayReport> {
    return this.request("POST", `/v1/admin/dlqs/${encodeURIComponent(queue)}/replay`, {
      body: { max, dry_run: dryRun },
      admin: true,
    });
  }

  /** Replays only `jobId`'s messages (up to `max`), whatever order SQS hands the queue out in. */
  replayJob(queue: string, jobId: string, max = 10): Promise<ReplayReport> {
    return this.request("POST", `/v1/admin/dlqs/${encodeURIComponent(queue)}/replay`, {
      body: { job_id: jobId, max },
      admin: true,
    });
  }

  async listDocuments(): Promise<DocumentStatus[]> {
    return documentsOf(await this.request<unknown>("GET", "/v1/documents"));
  }

  /** POST /v1/documents with the file as base64; the ingest function indexes it in the background. */
  uploadDocument(name: string, contentBase64: string): Promise<DocumentAccepted> {
    return this.request("POST", "/v1/documents", { body: { name, content_base64: contentBase64 } });
  }
}

/** GET /v1/documents answers a list, or an object holding one under `documents`. */
export function documentsOf(data: unknown): DocumentStatus[] {
  const list = Array.isArray(data) ? data : (data as { documents?: unknown } | null)?.documents;
  if (!Array.isArray(list)) return [];
  return list.filter((item): item is DocumentStatus => typeof item === "object" && item !== null && "doc" in item);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
