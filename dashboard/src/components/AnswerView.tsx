import { useRef, useState } from "react";
import type { Evaluation, Source } from "../api/types";
import { segmentAnswer } from "../lib/segments";
import { CitationPanel } from "./CitationPanel";

interface Props {
  text: string;
  sources: Source[];
  evaluation?: Evaluation | null;
}

export function AnswerView({ text, sources, evaluation }: Props) {
  const [open, setOpen] = useState<number | null>(null);
  const buttons = useRef(new Map<number, HTMLButtonElement>());
  const segments = segmentAnswer(text, {
    unsupported: evaluation?.unsupported_spans ?? [],
    pii: evaluation?.pii ?? [],
    sourceCount: sources.length,
  });
  const close = () => {
    const n = open;
    setOpen(null);
    if (n !== null) buttons.current.get(n)?.focus();
  };
  const opened = open !== null ? sources[open - 1] : undefined;
  const flagged = segments.some((segment) => segment.unsupported || segment.pii);
  return (
    <div className="answer">
      <p className="answer-text" data-testid="answer-text">
        {segments.map((segment, index) => {
          if (segment.citation !== undefined) {
            const n = segment.citation;
            const source = sources[n - 1]!;
            return (
              <button
                key={index}
                type="button"
                className={`cite${open === n ? " cite-open" : ""}`}
                aria-expanded={open === n}
                aria-label={`Source ${n}: ${source.doc}${source.section ? `, ${source.section}` : ""}`}
                ref={(element) => {
                  if (element) buttons.current.set(n, element);
                }}
                onClick={() => setOpen(open === n ? null : n)}
              >
                [{n}]
              </button>
            );
          }
          let content = <>{segment.text}</>;
          if (segment.pii) {
            content = (
              <mark className="pii" title={`Personal data (${segment.pii})`}>
                {content}
                <span className="sr-only"> (personal data: {segment.pii})</span>
              </mark>
            );
          }
          if (segment.unsupported) {
            content = (
              <mark className="unsupported" title="Not supported by the sources">
                {content}
                <span className="sr-only"> (not supported by the sources)</span>
              </mark>
            );
          }
          return <span key={index}>{content}</span>;
        })}
      </p>
      {flagged ? (
        <p className="legend small">
          <mark className="unsupported">Underlined</mark> not supported by the sources ·{" "}
          <mark className="pii">Outlined</mark> personal data
        </p>
      ) : null}
      {opened && open !== null ? <CitationPanel n={open} source={opened} onClose={close} /> : null}
      {sources.length > 0 ? (
        <details className="sources">
          <summary>Sources ({sources.length})</summary>
          <ol>
            {sources.map((source, index) => (
              <li key={source.chunk_id}>
                <button type="button" className="link-button" onClick={() => setOpen(index + 1)}>
                  {source.doc}
                </button>
                {source.section ? <span className="muted"> — {source.section}</span> : null}
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </div>
  );
}
