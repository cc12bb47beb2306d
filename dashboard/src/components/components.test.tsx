import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import type { Evaluation, Source } from "../api/types";
import type { TrackedJob } from "../live/jobTracker";
import { AnswerView } from "./AnswerView";
import { AskForm, MAX_QUESTION_CHARS } from "./AskForm";
import { ConnectionBanner } from "./ConnectionBanner";
import { EvaluationPanel } from "./EvaluationPanel";
import { StepTimeline } from "./StepTimeline";

const SOURCES: Source[] = [
  {
    doc: "Data_Protection_Policy.md",
    section: "6. Retention Periods > 6.1 Logs",
    chunk_id: "Data_Protection_Policy.md#cb90",
    score: 0.0325,
    text: "Logs of interactions must be kept for at least 12 months.",
  },
  { doc: "Responsible_AI_Usage_Policy.md", section: "", chunk_id: "Responsible_AI_Usage_Policy.md#75ce", score: 0.03 },
];

describe("AskForm", () => {
  it("cannot send an empty or blank question, by button or by Enter", async () => {
    const onAsk = vi.fn(async () => undefined);
    const user = userEvent.setup();
    render(<AskForm onAsk={onAsk} />);
    const button = screen.getByRole("button", { name: "Ask" });
    expect(button).toBeDisabled();
    const box = screen.getByLabelText("Your question");
    await user.type(box, "   ");
    expect(button).toBeDisabled();
    await user.type(box, "{Enter}");
    expect(onAsk).not.toHaveBeenCalled();
  });

  it("sends the trimmed question with Enter, keeps Shift+Enter for new lines, and clears the box", async () => {
    const onAsk = vi.fn(async () => undefined);
    const user = userEvent.setup();
    render(<AskForm onAsk={onAsk} />);
    const box = screen.getByLabelText("Your question");
    await user.type(box, "  How long{Shift>}{Enter}{/Shift}are logs kept?  ");
    expect(onAsk).not.toHaveBeenCalled();
    await user.type(box, "{Enter}");
    expect(onAsk).toHaveBeenCalledWith("How long\nare logs kept?");
    expect(box).toHaveValue("");
  });

  it("shows the API's error in words and keeps the question", async () => {
    const onAsk = vi.fn(async () => {
      throw new ApiError(503, "unavailable", "The service is temporarily unavailable (503): try again");
    });
    const user = userEvent.setup();
    render(<AskForm onAsk={onAsk} />);
    await user.type(screen.getByLabelText("Your question"), "Budget?");
    await user.click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The question was not sent: The service is temporarily unavailable (503): try again",
    );
    expect(screen.getByLabelText("Your question")).toHaveValue("Budget?");
  });

  it("refuses a question over the limit and says why", async () => {
    render(<AskForm onAsk={vi.fn()} />);
    const box = screen.getByLabelText("Your question");
    await act(async () => {
      await userEvent.setup().click(box);
      await userEvent.setup().paste("x".repeat(MAX_QUESTION_CHARS + 1));
    });
    expect(screen.getByRole("button", { name: "Ask" })).toBeDisabled();
    expect(box).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText(/Too long: 4001 of at most 4000 characters/)).toBeInTheDocument();
  });
});

describe("AnswerView", () => {
  it("opens the cited chunk: document, heading path and text; Escape closes it and returns focus", async () => {
    const user = userEvent.setup();
    render(<AnswerView text="Logs are kept for 12 months [1]. Ask the board [2]." sources={SOURCES} />);
    const cite = screen.getByRole("button", { name: "Source 1: Data_Protection_Policy.md, 6. Retention Periods > 6.1 Logs" });
    expect(cite).toHaveAttribute("aria-expanded", "false");
    await user.click(cite);
    const panel = screen.getByRole("complementary", { name: "Source [1]: Data_Protection_Policy.md" });
    expect(cite).toHaveAttribute("aria-expanded", "true");
    expect(within(panel).getByRole("navigation", { name: "Heading path" })).toHaveTextContent("6. Retention Periods6.1 Logs");
    expect(within(panel).getByText("Logs of interactions must be kept for at least 12 months.")).toBeInTheDocument();
    expect(panel).toHaveTextContent("retrieval score 0.03");
    expect(document.activeElement).toHaveTextContent("Source [1]: Data_Protection_Policy.md");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("complementary")).not.toBeInTheDocument();
    expect(document.activeElement).toBe(cite);

    await user.click(screen.getByRole("button", { name: /^Source 2:/ }));
    const second = screen.getByRole("complementary");
    expect(second).toHaveTextContent("No heading");
    expect(second).toHaveTextContent("This job stored no text for the chunk");
  });

  it("highlights unsupported spans and personal data, with words for screen readers", () => {
    const evaluation: Evaluation = {
      unsupported_spans: ["Logs are kept for 24 months."],
      pii: [{ type: "email", text: "ann@example.com" }],
    };
    const { container } = render(
      <AnswerView text="Logs are kept for 24 months [1]. Write to ann@example.com." sources={SOURCES} evaluation={evaluation} />,
    );
    const unsupported = container.querySelector("mark.unsupported");
    expect(unsupported).toHaveTextContent("Logs are kept for 24 months (not supported by the sources)");
    expect(container.querySelector("mark.pii")).toHaveTextContent("ann@example.com (personal data: email)");
    expect(screen.getByRole("button", { name: /^Source 1:/ })).toBeInTheDocument();
    expect(screen.getByText(/not supported by the sources ·/)).toBeInTheDocument();
  });
});

describe("EvaluationPanel", () => {
  it("shows the verdict with its reasons, every metric, the findings, and how it was evaluated", () => {
    render(
      <EvaluationPanel
        evaluation={{
          faithfulness: 0.5,
          hallucination: true,
          unsupported_spans: ["Logs are kept for 24 months."],
          answer_relevance: 0.7463,
          context_relevance: [0.58, 0.2],
          context_precision: 1,
          refusal: false,
          refusal_correct: null,
          pii: [{ type: "email", text: "a@b.c" }],
          toxicity: 0,
          toxic: false,
          verdict: "fail",
          reasons: ["faithfulness 0.50 is below 1.00", "the answer contains personal data: email"],
          context_utilisation: 1,
          issues: [{ kind: "number", span: "Logs are kept for 24 months.", reason: "'24 months' does not match" }],
          mode: "offline",
          latency_ms: 15.6,
          novel_metric: 0.25,
        }}
      />,
    );
    expect(screen.getByTestId("verdict-badge")).toHaveTextContent("Verdict: FAIL");
    const reasons = screen.getByRole("list", { name: "Reasons for the verdict" });
    expect(within(reasons).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "faithfulness 0.50 is below 1.00",
      "the answer contains personal data: email",
    ]);
    const metric = (label: string) => screen.getByText(label, { selector: "dt" }).nextElementSibling;
    expect(metric("Faithfulness")).toHaveTextContent("0.50");
    expect(metric("Answer relevance")).toHaveTextContent("0.75");
    expect(metric("Context precision")).toHaveTextContent("1.00");
    expect(metric("Context utilisation")).toHaveTextContent("1.00");
    expect(metric("Novel metric")).toHaveTextContent("0.25");
    expect(metric("Toxicity")).toHaveTextContent("0.00");
    expect(metric("Hallucination")).toHaveTextContent("yes");
    expect(metric("Refusal correct")).toHaveTextContent("not applicable");
    expect(metric("Context relevance")).toHaveTextContent("[1] 0.58[2] 0.20");
    expect(metric("Unsupported spans")).toHaveTextContent("1 (highlighted in the answer)");
    expect(metric("Personal data")).toHaveTextContent("email");
    expect(screen.getByText("Findings (1)")).toBeInTheDocument();
    expect(screen.getByText(/'24 months' does not match/)).toBeInTheDocument();
    expect(screen.getByText("Evaluated offline in 16 ms.")).toBeInTheDocument();
    expect(screen.queryByText("Latency ms")).not.toBeInTheDocument();
  });

  it("says so when a route has no evaluation", () => {
    render(<EvaluationPanel evaluation={null} />);
    expect(screen.getByText(/No evaluation/)).toBeInTheDocument();
  });
});

function tracked(fields: Partial<TrackedJob>): TrackedJob {
  return { jobId: "j1", status: "RUNNING", steps: [], result: null, via: null, pollError: null, ...fields };
}

describe("StepTimeline", () => {
  it("shows recorded durations, measured ones as estimates, and the running step", () => {
    vi.useFakeTimers({ now: 10_000, toFake: ["Date", "setInterval", "clearInterval"] });
    render(
      <StepTimeline
        job={tracked({
          steps: [
            { name: "classify", status: "COMPLETED", ms: 3.2, recorded: true, seenAt: 1 },
            { name: "retrieve", status: "COMPLETED", ms: 240, recorded: false, seenAt: 1 },
            { name: "answer", status: "RUNNING", ms: null, recorded: false, seenAt: 9_000 },
          ],
        })}
      />,
    );
    const list = screen.getByRole("list");
    expect(list).toHaveAttribute("aria-live", "polite");
    expect(screen.getByText("classify").closest("li")).toHaveTextContent("classify done3 ms");
    expect(screen.getByText("retrieve").closest("li")).toHaveTextContent("≈ 240 ms");
    expect(screen.getByText("answer").closest("li")).toHaveTextContent("answer running1.00 s so far");
    expect(screen.getByText("next step…")).toBeInTheDocument();
    vi.useRealTimers();
  });

  it("names the route taken and the steps it did not run", () => {
    render(
      <StepTimeline
        job={tracked({
          status: "BLOCKED",
          steps: [
            { name: "classify", status: "COMPLETED", ms: 1, recorded: true, seenAt: 1 },
            { name: "persist", status: "COMPLETED", ms: 20, recorded: true, seenAt: 1 },
          ],
          result: { job_id: "j1", status: "BLOCKED", route: "blocked", question: "q", session_id: "s", created_at: "", sources: [], steps: [] },
        })}
      />,
    );
    expect(screen.getByText(/Route:/).closest("p")).toHaveTextContent("Route: blocked (blocked); not run: retrieve, answer, evaluate");
    expect(screen.queryByText("next step…")).not.toBeInTheDocument();
  });
});

describe("ConnectionBanner", () => {
  it("tells the user what the live connection is doing", () => {
    const { rerender } = render(<ConnectionBanner link={{ kind: "live" }} />);
    expect(screen.getByRole("status")).toHaveTextContent("Live updates connected.");
    rerender(<ConnectionBanner link={{ kind: "reconnecting", attempt: 2, retryInMs: 2400, polling: true }} />);
    expect(screen.getByRole("status")).toHaveTextContent(
      "Live updates lost: reconnecting in 2 s (attempt 2). Meanwhile the dashboard checks for results every few seconds, so none will be missed.",
    );
    rerender(<ConnectionBanner link={{ kind: "connecting", attempt: 3 }} />);
    expect(screen.getByRole("status")).toHaveTextContent("Reconnecting for live updates (attempt 4)");
    rerender(<ConnectionBanner link={{ kind: "idle" }} />);
    expect(screen.getByRole("status")).toHaveTextContent("Live updates start with your next question.");
  });
});
