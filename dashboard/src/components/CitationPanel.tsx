import { useEffect, useRef } from "react";
import type { Source } from "../api/types";
import { formatScore } from "../lib/format";

export function CitationPanel({ n, source, onClose }: { n: number; source: Source; onClose: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, [n]);
  const path = source.section ? source.section.split(" > ") : [];
  return (
    <aside
      className="citation-panel"
      aria-labelledby={`citation-${n}-title`}
      onKeyDown={(event) => {
        if (event.key === "Escape") onClose();
      }}
    >
      <div className="citation-head">
        <h4 id={`citation-${n}-title`} ref={heading} tabIndex={-1}>
          Source [{n}]: {source.doc}
        </h4>
        <button type="button" className="button-quiet" onClick={onClose}>
          Close<span className="sr-only"> source {n}</span>
        </button>
      </div>
      {path.length > 0 ? (
        <nav aria-label="Heading path" className="heading-path">
          <ol>
            {path.map((part, index) => (
              <li key={`${index}-${part}`}>{part}</li>
            ))}
          </ol>
        </nav>
      ) : (
        <p className="muted">No heading: the text comes from the top of the document.</p>
      )}
      {source.text ? (
        <blockquote className="chunk-text">{source.text}</blockquote>
      ) : (
        <p className="muted">This job stored no text for the chunk ({source.chunk_id}).</p>
      )}
      <p className="muted small">
        Chunk <code>{source.chunk_id}</code> · retrieval score {formatScore(source.score)}
      </p>
    </aside>
  );
}
