// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LoopbackApi } from "../test/loopbackApi";
import { ApiClient, ApiError, documentsOf, errorText } from "./client";

let api: LoopbackApi;

beforeEach(async () => {
  api = await new LoopbackApi().start();
});

afterEach(async () => {
  await api.stop();
});

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error("the call succeeded");
}

describe("ApiClient", () => {
  it("posts a question and reads the 202", async () => {
    api.route("POST", "/v1/chat", (request) => ({
      status: 202,
      body: { job_id: "j1", session_id: (request.body as { session_id?: string }).session_id ?? "new", status: "QUEUED" },
    }));
    const client = new ApiClient(`${api.url}/`);
    expect(await client.chat("What is the budget?", "s-1")).toMatchObject({ job_id: "j1", session_id: "s-1" });
    expect(await client.chat("Hello")).toMatchObject({ session_id: "new" });
    expect(api.requests[0]?.body).toEqual({ question: "What is the budget?", session_id: "s-1" });
    expect(api.requests[1]?.body).toEqual({ question: "Hello" });
    expect(api.requests[0]?.headers["content-type"]).toBe("application/json");
  });

  it("turns the API's error body into words with the status", async () => {
    api.route("POST", "/v1/chat", {
      status: 422,
      body: { error: { code: "invalid_request", message: "question: String should have at least 1 character" } },
    });
    const error = await failure(new ApiClient(api.url).chat(" "));
    expect(error.status).toBe(422);
    expect(error.code).toBe("invalid_request");
    expect(error.message).toBe(
      "The request is not valid (422): question: String should have at least 1 character",
    );
    expect(errorText(error)).toBe(error.message);
  });

  it("explains errors without a JSON body, and successes that are not JSON", async () => {
    api.route("GET", "/v1/jobs/j1", { status: 502, raw: "<html>Bad Gateway</html>", contentType: "text/html" });
    api.route("GET", "/v1/jobs/j2", { status: 200, raw: "<html>index</html>", contentType: "text/html" });
    const client = new ApiClient(api.url);
    const gateway = await failure(client.getJob("j1"));
    expect(gateway.message).toMatch(/^The API is not reachable behind the gateway \(502 Bad Gateway\)\.$/);
    const html = await failure(client.getJob("j2"));
    expect(html.code).toBe("bad_response");
    expect(html.message).toContain("GET /v1/jobs/j2 with something that is not JSON");
  });

  it("says when the API cannot be reached, and when it is too slow", async () => {
    const url = api.url;
    await api.stop();
    const down = await failure(new ApiClient(url).getJob("j1"));
    expect(down.code).toBe("network");
    expect(down.message).toContain(`Could not reach the API at ${url}`);

    api = await new LoopbackApi().start();
    api.route("GET", "/v1/jobs/slow", { delayMs: 500, body: {} });
    const slow = await failure(new ApiClient(api.url, { timeoutMs: 50 }).getJob("slow"));
    expect(slow.code).toBe("timeout");
    expect(slow.message).toContain("did not answer within");
  });

  it("sends the admin token to admin routes only, and reports 401/403 as needing it", async () => {
    api.route("GET", "/v1/admin/jobs", (request) =>
      request.headers.authorization === "Bearer t0ken"
        ? { body: { jobs: [], count: 0, status: request.query.status ?? null, limit: Number(request.query.limit) } }
        : { status: 401, body: { error: { code: "unauthorized", message: "admin routes need a token" } } },
    );
    api.route("GET", "/v1/jobs/j1", { body: { job_id: "j1" } });
    let token: string | null = null;
    const client = new ApiClient(api.url, { adminToken: () => token });
    const refused = await failure(client.listJobs("FAILED", 20));
    expect(refused.needsAdminToken).toBe(true);
    expect(refused.message).toBe("This needs the admin token (401): admin routes need a token");
    token = "t0ken";
    expect(await client.listJobs("FAILED", 20)).toEqual({ jobs: [], count: 0, status: "FAILED", limit: 20 });
    expect(await client.listJobs(null)).toMatchObject({ status: null, limit: 50 });
    await client.getJob("j1");
    expect(api.requests.at(-1)?.headers.authorization).toBeUndefined();
  });

  it("peeks, previews and replays a DLQ; uploads and lists documents", async () => {
    api.route("GET", "/v1/admin/dlqs/failed%20jobs/messages", (request) => ({
      body: { queue: "failed jobs", source: "intake", depth: 0, messages: [], limit: request.query.limit },
    }));
    api.route("POST", "/v1/admin/dlqs/q/replay", (request) => ({ body: { ...(request.body as object), queue: "q" } }));
    api.route("GET", "/v1/documents", { body: { documents: [{ doc: "a.md", status: "INDEXED", chunks: 3 }] } });
    api.route("POST", "/v1/documents", (request) => ({ status: 202, body: { doc: (request.body as { name: string }).name, status: "PENDING" } }));
    const client = new ApiClient(api.url);
    expect(await client.peekDlq("failed jobs", 5)).toMatchObject({ limit: "5" });
    expect(await client.replayDlq("q", 3, true)).toEqual({ max: 3, dry_run: true, queue: "q" });
    expect(await client.replayJob("q", "job-7")).toEqual({ job_id: "job-7", max: 10, queue: "q" });
    expect(await client.listDocuments()).toEqual([{ doc: "a.md", status: "INDEXED", chunks: 3 }]);
    expect(await client.uploadDocument("b.md", "IyBU")).toMatchObject({ doc: "b.md", status: "PENDING" });
    expect(api.requests.at(-1)?.body).toEqual({ name: "b.md", content_base64: "IyBU" });
  });

  it("posts feedback with an optional comment", async () => {
    api.route("POST", "/v1/feedback", { status: 201, body: { job_id: "j1", feedback_id: "f1" } });
    const client = new ApiClient(api.url);
    await client.feedback("j1", "down", "  ");
    await client.feedback("j1", "up", " clear ");
    expect(api.requests.map((request) => request.body)).toEqual([
      { job_id: "j1", rating: "down" },
      { job_id: "j1", rating: "up", comment: "clear" },
    ]);
  });
});

describe("documentsOf", () => {
  it("reads a list or an object holding one, and drops what is not a document", () => {
    expect(documentsOf([{ doc: "a", status: "PENDING" }, 3])).toEqual([{ doc: "a", status: "PENDING" }]);
    expect(documentsOf({ documents: [{ doc: "b", status: "FAILED" }] })).toEqual([{ doc: "b", status: "FAILED" }]);
    expect(documentsOf({ nothing: true })).toEqual([]);
  });
});
