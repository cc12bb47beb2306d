// @vitest-environment node
// The tracker over real sockets: a WebSocket server and an HTTP server on loopback that speak the API's
// protocol (subscribe -> subscribed, progress per step, result; GET /v1/jobs/{id}). The server drops the
// connection mid-job or goes away entirely; the tracker must still end with the result, exactly once.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { Job, StepRecord } from "../api/types";
import { JobTracker, type SocketLike, type TrackedJob } from "./jobTracker";

const STEPS: StepRecord[] = ["classify", "retrieve", "answer", "evaluate", "persist"].map((name, index) => ({
  name,
  status: "COMPLETED",
  ms: 10 + index,
}));

function jobRecord(status: Job["status"], steps: StepRecord[]): Job {
  return {
    job_id: "job-1",
    status,
    question: "How long are audit logs kept?",
    session_id: "s",
    created_at: "2026-01-01T00:00:00.000Z",
    sources: [],
    steps,
    answer: status === "COMPLETED" ? "Twelve months [1]." : null,
  };
}

class LoopbackApi {
  readonly http: Server;
  readonly ws: WebSocketServer;
  job: Job = jobRecord("RUNNING", []);
  subscribes = 0;
  connections = 0;
  onSubscribe: (socket: WebSocket, count: number) => void = () => undefined;

  constructor() {
    this.http = createServer((request, response) => {
      if (request.url === `/v1/jobs/${this.job.job_id}`) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(this.job));
      } else {
        response.writeHead(404).end();
      }
    });
    this.ws = new WebSocketServer({ server: this.http, path: "/prod" });
    this.ws.on("connection", (socket) => {
      this.connections += 1;
      socket.on("message", (data) => {
        const message = JSON.parse(String(data)) as { action: string; job_id: string };
        if (message.action !== "subscribe") return;
        this.subscribes += 1;
        socket.send(JSON.stringify({ type: "subscribed", job_id: message.job_id, status: this.job.status }));
        for (const step of this.job.steps) {
          socket.send(JSON.stringify({ type: "progress", job_id: message.job_id, step: step.name, status: step.status }));
        }
        this.onSubscribe(socket, this.subscribes);
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(0, "127.0.0.1", resolve));
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const client of this.ws.clients) client.terminate();
    await new Promise<void>((resolve) => this.ws.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

function tracker(api: LoopbackApi, wsPort = api.port): JobTracker {
  return new JobTracker({
    wsUrl: `ws://127.0.0.1:${wsPort}/prod`,
    fetchJob: async (jobId) => {
      const response = await fetch(`http://127.0.0.1:${api.port}/v1/jobs/${jobId}`);
      if (!response.ok) throw new Error(`status ${response.status}`);
      return (await response.json()) as Job;
    },
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    backoff: { initialMs: 40, maxMs: 200, factor: 2, jitter: 0.2 },
    pollMs: 100,
    safetyPollMs: 5000,
  });
}

function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error("timed out"));
      else setTimeout(check, 10);
    };
    check();
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe("JobTracker on real sockets", () => {
  it("survives a dropped connection mid-job: reconnects, re-subscribes and gets the result once", async () => {
    const api = new LoopbackApi();
    await api.start();
    cleanups.push(() => api.stop());
    api.onSubscribe = (socket, count) => {
      if (count === 1) {
        socket.send(JSON.stringify({ type: "progress", job_id: "job-1", step: "classify", status: "RUNNING" }));
        api.job = jobRecord("RUNNING", STEPS.slice(0, 2));
        setTimeout(() => socket.terminate(), 20); // the connection dies mid-job
      } else {
        api.job = jobRecord("COMPLETED", STEPS);
        socket.send(JSON.stringify({ type: "result", ...api.job }));
      }
    };
    const client = tracker(api);
    cleanups.push(() => client.close());
    const updates: TrackedJob[] = [];
    const links: string[] = [];
    client.onLink((state) => links.push(state.kind));
    client.track("job-1", (update) => updates.push(update));

    await until(() => updates.some((update) => update.result !== null));
    const final = client.snapshot("job-1")!;
    expect(final.result?.answer).toBe("Twelve months [1].");
    expect(final.steps.map((step) => [step.name, step.ms])).toEqual(STEPS.map((step) => [step.name, step.ms]));
    expect(api.connections).toBeGreaterThanOrEqual(2);
    expect(api.subscribes).toBeGreaterThanOrEqual(2);
    expect(links).toContain("reconnecting");
    expect(updates.filter((update) => update.result !== null)).toHaveLength(1);
  });

  it("falls back to polling when the WebSocket cannot be reached at all", async () => {
    const api = new LoopbackApi();
    await api.start();
    cleanups.push(() => api.stop());
    // A port nothing listens on: every connection attempt fails.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const client = tracker(api, deadPort);
    cleanups.push(() => client.close());
    const updates: TrackedJob[] = [];
    client.track("job-1", (update) => updates.push(update));
    await until(() => client.linkState().kind === "reconnecting");
    api.job = jobRecord("COMPLETED", STEPS);

    await until(() => client.snapshot("job-1")?.result !== null);
    expect(client.snapshot("job-1")?.via).toBe("polling");
    expect(client.snapshot("job-1")?.status).toBe("COMPLETED");
    expect(updates.filter((update) => update.result !== null)).toHaveLength(1);
  });
});
