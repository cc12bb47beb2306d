import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "../config";
import { formatAge, formatMs, generationWords, routeWords, shortId } from "./format";
import { jobErrorText } from "./jobError";
import { hrefFor, parseRoute } from "./router";

describe("runtime configuration", () => {
  it("accepts http(s) and ws(s) URLs and trims a trailing slash", () => {
    expect(parseConfig({ api_url: "https://api.example/", websocket_url: "wss://ws.example/prod" })).toEqual({
      apiUrl: "https://api.example",
      websocketUrl: "wss://ws.example/prod",
      adminTokenRequired: false,
    });
  });

  it("names the field that is wrong", () => {
    expect(() => parseConfig(null)).toThrow(ConfigError);
    expect(() => parseConfig({ api_url: "ftp://x", websocket_url: "wss://y" })).toThrow(/api_url must be an http\(s\) URL/);
    expect(() => parseConfig({ api_url: "http://x", websocket_url: "http://y" })).toThrow(/websocket_url must be a ws\(s\) URL/);
  });

  it("explains a missing config.json in words", async () => {
    const missing = async () => new Response("nope", { status: 404 });
    await expect(loadConfig("./config.json", missing)).rejects.toThrow(/answered 404.*make dashboard-deploy/);
    const html = async () => new Response("<html>", { status: 200 });
    await expect(loadConfig("./config.json", html)).rejects.toThrow(/is not JSON/);
  });
});

describe("routes", () => {
  it("parses and builds hash routes", () => {
    expect(parseRoute("")).toEqual({ page: "chat" });
    expect(parseRoute("#/jobs")).toEqual({ page: "jobs" });
    expect(parseRoute("#/jobs/abc%20d")).toEqual({ page: "job", jobId: "abc d" });
    expect(parseRoute("#/operations")).toEqual({ page: "operations" });
    expect(parseRoute("#/nowhere")).toEqual({ page: "chat" });
    expect(hrefFor({ page: "job", jobId: "a/b" })).toBe("#/jobs/a%2Fb");
    expect(hrefFor({ page: "quality" })).toBe("#/quality");
  });
});

describe("formatting", () => {
  it("formats durations, ages, ids and routes", () => {
    expect(formatMs(0.4)).toBe("<1 ms");
    expect(formatMs(245.4)).toBe("245 ms");
    expect(formatMs(1500)).toBe("1.50 s");
    expect(formatMs(null)).toBe("—");
    expect(formatAge(42)).toBe("42 s");
    expect(formatAge(3 * 3600 + 120)).toBe("3 h 2 min");
    expect(formatAge(null)).toBe("unknown");
    expect(shortId("0123456789abcdef")).toBe("01234567…");
    expect(routeWords("human_review")).toBe("passed to a person");
  });

  it("says who wrote an answer and what it cost", () => {
    expect(generationWords({ provider: "offline", model: "extractive", latency_ms: 12, tokens_in: 0, tokens_out: 0, cost_usd: 0 })).toBe(
      "Written by offline / extractive · 12 ms",
    );
    expect(generationWords({ provider: "groq", model: "llama", latency_ms: 900, tokens_in: 812, tokens_out: 64, cost_usd: 0.00051 })).toBe(
      "Written by groq / llama · 900 ms · 812 tokens in, 64 out · $0.0005",
    );
    expect(generationWords(null)).toBeNull();
  });

  it("reads the Lambda error JSON the state machine stores as the message", () => {
    const stored = { type: "FaultInjected", step: "answer", message: JSON.stringify({ errorMessage: "fault injected in step answer", stackTrace: ["..."] }) };
    expect(jobErrorText(stored)).toBe("FaultInjected in answer: fault injected in step answer");
    const cut = { type: "FaultInjected", step: "answer", message: '{"errorMessage":"fault \\"injected\\"","errorType":"FaultInjected","stackTrace":["  File \\"/wor' };
    expect(jobErrorText(cut)).toBe('FaultInjected in answer: fault "injected"');
    expect(jobErrorText({ type: "QueueUnavailable" })).toBe("QueueUnavailable");
    expect(jobErrorText({ message: "x".repeat(400) })).toMatch(/^Error: x{300}…$/);
    expect(jobErrorText(null)).toBe("unknown error");
  });
});
