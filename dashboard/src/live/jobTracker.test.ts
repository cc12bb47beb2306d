// The tracker's protocol and timing, step by step on a scripted socket and fake timers. (The same client
// over real sockets and real HTTP on loopback is in jobTracker.socket.test.ts.)
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Job, JobStatus, StepRecord } from "../api/types";
import { ScriptedSocket } from "../test/scriptedSocket";
import { backoffDelay, JobTracker, type LinkState, type TrackedJob } from "./jobTracker";

function job(jobId: string, status: JobStatus, steps: StepRecord[] = [], extra: Partial<Job> = {}): Job {
  return {
    job_id: jobId,
    status,
    question: "q",
    session_id: "s",
    created_at: "2026-01-01T00:00:00.000Z",
    sources: [],
    steps,
    ...extra,
  };
}

const DONE_STEPS: StepRecord[] = [
  { name: "classify", status: "COMPLETED", ms: 3 },
  { name: "retrieve", status: "COMPLETED", ms: 40 },
  { name: "answer", status: "COMPLETED", ms: 20 },
  { name: "evaluate", status: "COMPLETED", ms: 5 },
  { name: "persist", status: "COMPLETED", ms: 9 },
];

interface Harness {
  tracker: JobTracker;
  sockets: ScriptedSocket[];
  server: Map<string, Job>;
  fetches: string[];
  links: LinkState[];
  updates: TrackedJob[];
  clock: { now: number };
}

function harness(options: { failFetch?: () => boolean } = {}): Harness {
  const sockets: ScriptedSocket[] = [];
  const server = new Map<string, Job>();
  const fetches: string[] = [];
  const clock = { now: 1000 };
  const tracker = new JobTracker({
    wsUrl: "ws://api.test/prod",
    fetchJob: async (jobId) => {
      fetches.push(jobId);
      if (options.failFetch?.()) throw new Error("the API is down");
      const found = server.get(jobId);
      if (!found) throw new Error(`no job ${jobId}`);
      return structuredClone(found);
    },
    createSocket: () => {
      const socket = new ScriptedSocket();
      sockets.push(socket);
      return socket;
    },
    now: () => clock.now,
    random: () => 0.5, // no jitter: delays are the nominal ones
    backoff: { initialMs: 500, maxMs: 4000, factor: 2, jitter: 0.2 },
    pollMs: 1000,
    safetyPollMs: 10000,
  });
  const links: LinkState[] = [];
  tracker.onLink((state) => links.push(state));
  return { tracker, sockets, server, fetches, links, updates: [], clock };
}

function follow(h: Harness, jobId: string): () => TrackedJob | undefined {
  h.tracker.track(jobId, (update) => h.updates.push(update));
  return () => h.tracker.snapshot(jobId);
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("JobTracker over the WebSocket", () => {
  it("subscribes when the socket opens, shows steps as they come and delivers the result once", async () => {
    const h = harness();
    const current = follow(h, "j1");
    expect(h.sockets).toHaveLength(1);
    expect(h.links.at(-1)).toEqual({ kind: "connecting", attempt: 0 });

    const socket = h.sockets[0]!;
    socket.open();
    expect(h.links.at(-1)).toEqual({ kind: "live" });
    expect(socket.sent).toEqual([{ action: "subscribe", job_id: "j1" }]);

    socket.push({ type: "subscribed", job_id: "j1", status: "QUEUED" });
    socket.push({ type: "progress", job_id: "j1", step: "classify", status: "RUNNING" });
    h.clock.now += 30;
    socket.push({ type: "progress", job_id: "j1", step: "classify", status: "COMPLETED" });
    expect(current()?.status).toBe("RUNNING");
    expect(current()?.steps).toEqual([
      { name: "classify", status: "COMPLETED", ms: 30, recorded: false, seenAt: 1000 },
    ]);

    const result = job("j1", "COMPLETED", DONE_STEPS, { answer: "The answer [1]." });
    socket.push({ type: "result", ...result });
    expect(current()?.result?.answer).toBe("The answer [1].");
    expect(current()?.via).toBe("websocket");
    expect(current()?.steps.map((step) => [step.name, step.ms, step.recorded])).toEqual([
      ["classify", 3, true],
      ["retrieve", 40, true],
      ["answer", 20, true],
      ["evaluate", 5, true],
      ["persist", 9, true],
    ]);

    const results = h.updates.filter((update) => update.result !== null).length;
    socket.push({ type: "result", ...result, answer: "a second copy" });
    expect(current()?.result?.answer).toBe("The answer [1].");
    expect(h.updates.filter((update) => update.result !== null).length).toBe(results);
    h.tracker.close();
  });

  it("merges re-sent steps by name and never moves a finished step back to running", () => {
    const h = harness();
    const current = follow(h, "j1");
    const socket = h.sockets[0]!;
    socket.open();
    socket.push({ type: "progress", job_id: "j1", step: "classify", status: "COMPLETED" });
    socket.push({ type: "progress", job_id: "j1", step: "retrieve", status: "COMPLETED" });
    // A late StepStarted (pushes are not ordered) and the server's re-send on a second subscribe.
    socket.push({ type: "progress", job_id: "j1", step: "classify", status: "RUNNING" });
    socket.push({ type: "progress", job_id: "j1", step: "retrieve", status: "COMPLETED" });
    expect(current()?.steps.map((step) => `${step.name}:${step.status}`)).toEqual([
      "classify:COMPLETED",
      "retrieve:COMPLETED",
    ]);
    socket.push({ type: "progress", job_id: "other", step: "answer", status: "RUNNING" });
    expect(h.tracker.snapshot("other")).toBeUndefined();
    h.tracker.close();
  });

  it("ignores messages that are not JSON and error messages", () => {
    const h = harness();
    const current = follow(h, "j1");
    const socket = h.sockets[0]!;
    socket.open();
    socket.onmessage?.({ data: "not json" });
    socket.push({ type: "error", error: { code: "invalid_request", message: "bad" } });
    expect(current()?.steps).toEqual([]);
    expect(current()?.result).toBeNull();
    h.tracker.close();
  });
});

describe("JobTracker when the WebSocket drops", () => {
  it("reconnects with growing backoff, polls meanwhile, and re-subscribes on reconnect", async () => {
    const h = harness();
    h.server.set("j1", job("j1", "RUNNING", [{ name: "classify", status: "COMPLETED", ms: 2 }]));
    const current = follow(h, "j1");
    h.sockets[0]!.open();
    h.sockets[0]!.drop();

    expect(h.links.at(-1)).toEqual({ kind: "reconnecting", attempt: 1, retryInMs: 500, polling: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.fetches).toEqual(["j1"]); // polled at once
    expect(current()?.steps.map((step) => step.name)).toEqual(["classify"]);

    await vi.advanceTimersByTimeAsync(500);
    expect(h.sockets).toHaveLength(2);
    h.sockets[1]!.drop(); // the reconnect fails too
    expect(h.links.at(-1)).toMatchObject({ kind: "reconnecting", attempt: 2, retryInMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    h.sockets[2]!.drop();
    expect(h.links.at(-1)).toMatchObject({ kind: "reconnecting", attempt: 3, retryInMs: 2000 });

    const polls = h.fetches.length;
    await vi.advanceTimersByTimeAsync(2000);
    expect(h.fetches.length).toBeGreaterThanOrEqual(polls + 2); // every pollMs while down

    const socket = h.sockets[3]!;
    socket.open();
    expect(h.links.at(-1)).toEqual({ kind: "live" });
    expect(socket.sent).toEqual([{ action: "subscribe", job_id: "j1" }]);

    // Live again: polling drops back to the slow safety interval.
    const afterReconnect = h.fetches.length;
    await vi.advanceTimersByTimeAsync(9000);
    expect(h.fetches.length).toBe(afterReconnect);
    h.tracker.close();
  });

  it("caps the backoff and starts again from the first delay after a connection succeeds", async () => {
    const h = harness();
    h.server.set("j1", job("j1", "RUNNING"));
    follow(h, "j1");
    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      h.sockets.at(-1)!.drop();
      const link = h.links.at(-1);
      if (link?.kind === "reconnecting") delays.push(link.retryInMs);
      await vi.advanceTimersByTimeAsync(link?.kind === "reconnecting" ? link.retryInMs : 0);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    h.sockets.at(-1)!.open();
    h.sockets.at(-1)!.drop();
    expect(h.links.at(-1)).toMatchObject({ kind: "reconnecting", attempt: 1, retryInMs: 500 });
    h.tracker.close();
  });

  it("delivers a result found by polling while the socket is down, once", async () => {
    const h = harness();
    h.server.set("j1", job("j1", "RUNNING"));
    const current = follow(h, "j1");
    h.sockets[0]!.open();
    h.sockets[0]!.drop();
    h.server.set("j1", job("j1", "COMPLETED", DONE_STEPS, { answer: "from polling" }));
    await vi.advanceTimersByTimeAsync(0);
    expect(current()?.result?.answer).toBe("from polling");
    expect(current()?.via).toBe("polling");

    // Nothing is left to follow: the scheduled reconnect does not open a socket.
    await vi.advanceTimersByTimeAsync(500);
    expect(h.sockets).toHaveLength(1);
    expect(h.links.at(-1)).toEqual({ kind: "idle" });
    expect(h.updates.filter((update) => update.result !== null)).toHaveLength(1);

    const fetched = h.fetches.length;
    await vi.advanceTimersByTimeAsync(30000);
    expect(h.fetches.length).toBe(fetched); // finished jobs are not polled
    h.tracker.close();
  });

  it("finds a result the socket never pushed with the safety poll while live", async () => {
    const h = harness();
    h.server.set("j1", job("j1", "RUNNING"));
    const current = follow(h, "j1");
    h.sockets[0]!.open();
    h.sockets[0]!.push({ type: "progress", job_id: "j1", step: "classify", status: "RUNNING" });
    h.server.set("j1", job("j1", "BLOCKED", [DONE_STEPS[0]!, DONE_STEPS[4]!], { route: "blocked" }));

    await vi.advanceTimersByTimeAsync(9999);
    expect(current()?.result).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(current()?.result?.status).toBe("BLOCKED");
    expect(current()?.status).toBe("BLOCKED");
    expect(current()?.steps.map((step) => step.name)).toEqual(["classify", "persist"]);
    h.tracker.close();
  });

  it("reports polling failures in words and keeps polling", async () => {
    let down = true;
    const h = harness({ failFetch: () => down });
    h.server.set("j1", job("j1", "RUNNING"));
    const current = follow(h, "j1");
    h.sockets[0]!.drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(current()?.pollError).toBe("the API is down");
    down = false;
    h.server.set("j1", job("j1", "FAILED", [], { error: { type: "FaultInjected", step: "answer" } }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(current()?.pollError).toBeNull();
    expect(current()?.result?.status).toBe("FAILED");
    h.tracker.close();
  });

  it("does not reconnect in the background when nothing is followed, and reconnects for the next job", async () => {
    const h = harness();
    h.server.set("j1", job("j1", "COMPLETED", DONE_STEPS));
    h.tracker.track("j1", undefined, job("j1", "COMPLETED", DONE_STEPS));
    expect(h.sockets).toHaveLength(0); // a finished job needs no socket

    follow(h, "j2");
    h.sockets[0]!.open();
    h.sockets[0]!.push({ type: "result", ...job("j2", "COMPLETED", DONE_STEPS) });
    h.sockets[0]!.drop();
    expect(h.links.at(-1)).toEqual({ kind: "idle" });
    await vi.advanceTimersByTimeAsync(60000);
    expect(h.sockets).toHaveLength(1);

    follow(h, "j3");
    expect(h.sockets).toHaveLength(2);
    h.tracker.close();
  });

  it("follows a finished job again after a replay restarts it", async () => {
    const h = harness();
    const current = follow(h, "j1");
    const socket = h.sockets[0]!;
    socket.open();
    socket.push({ type: "result", ...job("j1", "FAILED", [{ name: "answer", status: "FAILED", ms: 1 }]) });
    expect(current()?.result?.status).toBe("FAILED");

    h.tracker.restart("j1");
    expect(current()?.status).toBe("QUEUED");
    expect(current()?.result).toBeNull();
    expect(socket.sent).toEqual([
      { action: "subscribe", job_id: "j1" },
      { action: "subscribe", job_id: "j1" },
    ]);
    socket.push({ type: "result", ...job("j1", "COMPLETED", DONE_STEPS) });
    expect(current()?.result?.status).toBe("COMPLETED");
    h.tracker.close();
  });
});

describe("JobTracker and fresher reads", () => {
  it("replaces a kept result when a page brings a newer state of the job", () => {
    const h = harness();
    h.tracker.track("j1", undefined, job("j1", "FAILED", [{ name: "answer", status: "FAILED", ms: 1 }]));
    expect(h.tracker.snapshot("j1")?.result?.status).toBe("FAILED");
    // Replayed meanwhile (e.g. from the CLI): the detail page reads it RUNNING and must follow it again.
    h.tracker.track("j1", undefined, job("j1", "RUNNING", [{ name: "classify", status: "COMPLETED", ms: 2 }]));
    expect(h.tracker.snapshot("j1")?.result).toBeNull();
    expect(h.tracker.snapshot("j1")?.status).toBe("RUNNING");
    expect(h.sockets).toHaveLength(1);
    h.tracker.track("j1", undefined, job("j1", "COMPLETED", DONE_STEPS));
    expect(h.tracker.snapshot("j1")?.result?.status).toBe("COMPLETED");
    h.tracker.close();
  });
});

describe("backoffDelay", () => {
  it("grows by the factor, stays within the jitter and under the cap", () => {
    const backoff = { initialMs: 500, maxMs: 15000, factor: 2, jitter: 0.2 };
    expect(backoffDelay(0, backoff, () => 0)).toBe(400);
    expect(backoffDelay(0, backoff, () => 1)).toBe(600);
    expect(backoffDelay(3, backoff, () => 0.5)).toBe(4000);
    expect(backoffDelay(10, backoff, () => 1)).toBe(15000);
  });
});
