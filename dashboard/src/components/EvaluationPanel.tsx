import type { Evaluation } from "../api/types";
import { formatMs, formatScore } from "../lib/format";
import { VerdictBadge } from "./Badges";

interface MetricInfo {
  label: string;
  help: string;
  /** true when a higher score is better (the bar turns red as it falls). */
  higherIsBetter?: boolean;
}

const KNOWN: Record<string, MetricInfo> = {
  faithfulness: { label: "Faithfulness", help: "share of answer sentences the sources support", higherIsBetter: true },
  answer_relevance: { label: "Answer relevance", help: "how well the answer addresses the question", higherIsBetter: true },
  context_precision: { label: "Context precision", help: "relevant sources ranked first", higherIsBetter: true },
  context_utilisation: { label: "Context utilisation", help: "share of the sources the answer uses", higherIsBetter: true },
  context_utilization: { label: "Context utilisation", help: "share of the sources the answer uses", higherIsBetter: true },
  context_recall: { label: "Context recall", help: "share of the answer found in the sources", higherIsBetter: true },
  toxicity: { label: "Toxicity", help: "demeaning or toxic language", higherIsBetter: false },
  hallucination: { label: "Hallucination", help: "the answer states things the sources do not" },
  refusal: { label: "Refusal", help: "the answer declines to answer" },
  refusal_correct: { label: "Refusal correct", help: "refused only when the sources lack the answer" },
  toxic: { label: "Toxic", help: "toxicity above the threshold" },
};

// Shown elsewhere (badge, reasons, highlights, the line about how it was evaluated) or in their own rows.
const SPECIAL = new Set([
  "verdict",
  "reasons",
  "unsupported_spans",
  "pii",
  "context_relevance",
  "issues",
  "mode",
  "latency_ms",
  "cost_usd",
  "judge",
]);

interface Issue {
  kind?: string;
  span?: string;
  reason?: string;
}

function issuesOf(value: unknown): Issue[] {
  return Array.isArray(value) ? value.filter((item): item is Issue => typeof item === "object" && item !== null) : [];
}

/** A 0-1 score gets a bar; any other number (a count, a duration) is shown as it is. */
function isScore(key: string, value: unknown): value is number {
  return typeof value === "number" && value >= 0 && value <= 1 && !/_(ms|usd|count|tokens)$/.test(key);
}

function humanize(key: string): string {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function ScoreBar({ value, higherIsBetter }: { value: number; higherIsBetter: boolean }) {
  const clamped = Math.max(0, Math.min(1, value));
  const good = higherIsBetter ? clamped : 1 - clamped;
  const tone = good >= 0.75 ? "good" : good >= 0.5 ? "fair" : "poor";
  return (
    <span className="bar" aria-hidden="true">
      <span className={`bar-fill bar-${tone}`} style={{ width: `${Math.round(clamped * 100)}%` }} />
    </span>
  );
}

function yesNo(value: unknown): string {
  if (value === true) return "yes";
  if (value === false) return "no";
  if (value === null || value === undefined) return "not applicable";
  return String(value);
}

export function EvaluationPanel({ evaluation }: { evaluation: Evaluation | null | undefined }) {
  if (!evaluation) {
    return (
      <section className="evaluation" aria-label="Evaluation">
        <p className="muted">No evaluation: this route does not produce a generated answer.</p>
      </section>
    );
  }
  const rows = Object.entries(evaluation).filter(([key]) => !SPECIAL.has(key));
  const scores = rows.filter(([key, value]) => isScore(key, value));
  const flags = rows.filter(([key, value]) => !isScore(key, value));
  const issues = issuesOf(evaluation.issues);
  const mode = typeof evaluation.mode === "string" ? evaluation.mode : null;
  const latency = typeof evaluation.latency_ms === "number" ? evaluation.latency_ms : null;
  const reasons = evaluation.reasons ?? [];
  const pii = evaluation.pii ?? [];
  const unsupported = evaluation.unsupported_spans ?? [];
  const contextRelevance = evaluation.context_relevance ?? [];
  return (
    <section className="evaluation" aria-label="Evaluation">
      <div className="verdict-line">
        <h4>Evaluation</h4>
        <VerdictBadge verdict={evaluation.verdict} />
      </div>
      {reasons.length > 0 ? (
        <ul className="reasons" aria-label="Reasons for the verdict">
          {reasons.map((reason, index) => (
            <li key={index}>{reason}</li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No concerns raised.</p>
      )}
      {issues.length > 0 ? (
        <details className="issues">
          <summary>Findings ({issues.length})</summary>
          <ul>
            {issues.map((issue, index) => (
              <li key={index}>
                {issue.kind ? <strong>{issue.kind}: </strong> : null}
                {issue.reason ?? ""}
                {issue.span ? <q className="muted"> {issue.span}</q> : null}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <dl className="metrics">
        {scores.map(([key, value]) => {
          const info = KNOWN[key];
          return (
            <div key={key} className="metric">
              <dt title={info?.help}>{info?.label ?? humanize(key)}</dt>
              <dd>
                <ScoreBar value={value as number} higherIsBetter={info?.higherIsBetter ?? true} />
                <span className="metric-value">{formatScore(value as number)}</span>
              </dd>
            </div>
          );
        })}
        {flags.map(([key, value]) => (
          <div key={key} className="metric">
            <dt title={KNOWN[key]?.help}>{KNOWN[key]?.label ?? humanize(key)}</dt>
            <dd className={value === true && (key === "hallucination" || key === "toxic") ? "flag-bad" : undefined}>
              {typeof value === "number"
                ? String(Math.round(value * 1000) / 1000)
                : typeof value === "object" && value !== null
                  ? JSON.stringify(value)
                  : yesNo(value)}
            </dd>
          </div>
        ))}
        <div className="metric">
          <dt title="relevance of each retrieved source to the question">Context relevance</dt>
          <dd>
            {contextRelevance.length > 0 ? (
              <span className="per-source">
                {contextRelevance.map((score, index) => (
                  <span key={index}>
                    [{index + 1}] {formatScore(score)}
                  </span>
                ))}
              </span>
            ) : (
              "no sources"
            )}
          </dd>
        </div>
        <div className="metric">
          <dt>Unsupported spans</dt>
          <dd className={unsupported.length > 0 ? "flag-bad" : undefined}>
            {unsupported.length === 0 ? "none" : `${unsupported.length} (highlighted in the answer)`}
          </dd>
        </div>
        <div className="metric">
          <dt>Personal data</dt>
          <dd className={pii.length > 0 ? "flag-bad" : undefined}>
            {pii.length === 0 ? "none found" : pii.map((finding) => finding.type).join(", ")}
          </dd>
        </div>
      </dl>
      {mode || latency !== null ? (
        <p className="small muted">
          Evaluated {mode ? `${mode} ` : ""}
          {latency !== null ? `in ${formatMs(latency)}` : ""}.
        </p>
      ) : null}
    </section>
  );
}
