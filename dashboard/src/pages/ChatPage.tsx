import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api/client";
import type { SessionTurn } from "../api/types";
import { AskForm } from "../components/AskForm";
import { StatusBadge } from "../components/Badges";
import { ConnectionBanner } from "../components/ConnectionBanner";
import { ErrorMessage } from "../components/ErrorMessage";
import { JobCard } from "../components/JobCard";
import { useServices } from "../context";
import { useLinkState } from "../live/hooks";
import { formatTime, shortId } from "../lib/format";
import { hrefFor } from "../lib/router";
import { sessionStore } from "../lib/storage";

interface AskedJob {
  jobId: string;
  question: string;
}

export function ChatPage() {
  const { client, tracker } = useServices();
  const link = useLinkState(tracker);
  const [sessionId, setSessionId] = useState<string | null>(() => sessionStore.get());
  // The stored session's earlier turns are loaded once; a session started here has none to load.
  const [historyOf, setHistoryOf] = useState<string | null>(() => sessionStore.get());
  const [asked, setAsked] = useState<AskedJob[]>([]);
  const [history, setHistory] = useState<SessionTurn[]>([]);
  const [historyError, setHistoryError] = useState<unknown>(null);
  const [loadingHistory, setLoadingHistory] = useState(false);

  const loadHistory = useCallback(
    async (id: string) => {
      setLoadingHistory(true);
      setHistoryError(null);
      try {
        setHistory((await client.getSession(id)).turns);
      } catch (error) {
        // A session has no turns until its first answer is stored: not an error for the user.
        if (error instanceof ApiError && error.status === 404) setHistory([]);
        else setHistoryError(error);
      } finally {
        setLoadingHistory(false);
      }
    },
    [client],
  );

  useEffect(() => {
    if (historyOf) void loadHistory(historyOf);
  }, [historyOf, loadHistory]);

  const ask = async (question: string) => {
    const accepted = await client.chat(question, sessionId);
    if (accepted.session_id !== sessionId) {
      sessionStore.set(accepted.session_id);
      if (!sessionId) setSessionId(accepted.session_id);
    }
    setAsked((previous) => [...previous, { jobId: accepted.job_id, question }]);
  };

  const newSession = () => {
    sessionStore.clear();
    setSessionId(null);
    setHistoryOf(null);
    setAsked([]);
    setHistory([]);
    setHistoryError(null);
  };

  const askedIds = new Set(asked.map((job) => job.jobId));
  const earlier = history.filter((turn) => !askedIds.has(turn.job_id));

  return (
    <div className="page chat-page">
      <div className="page-head">
        <h1>Chat</h1>
        <div className="session-bar">
          <span className="muted small">
            {sessionId ? (
              <>
                Session <code title={sessionId}>{shortId(sessionId)}</code>
              </>
            ) : (
              "No conversation yet"
            )}
          </span>
          <button type="button" className="button-quiet" onClick={newSession} disabled={!sessionId && asked.length === 0}>
            New session
          </button>
        </div>
      </div>
      <ConnectionBanner link={link} />

      <section aria-labelledby="history-title" className="history">
        <h2 id="history-title" className={earlier.length === 0 && !loadingHistory && !historyError ? "sr-only" : undefined}>
          Earlier in this session
        </h2>
        {loadingHistory ? <p className="muted">Loading the conversation…</p> : null}
        <ErrorMessage error={historyError} title="The conversation could not be loaded" />
        {earlier.length > 0 ? (
          <ol className="turns">
            {earlier.map((turn) => (
              <li key={turn.job_id} className="turn">
                <div className="turn-head">
                  <strong className="turn-question">{turn.question}</strong>
                  <StatusBadge status={turn.status} />
                </div>
                {turn.answer ? <p className="turn-answer">{turn.answer}</p> : null}
                <p className="small muted">
                  {formatTime(turn.created_at)} ·{" "}
                  <a href={hrefFor({ page: "job", jobId: turn.job_id })}>
                    Sources and evaluation<span className="sr-only"> for “{turn.question}”</span>
                  </a>
                </p>
              </li>
            ))}
          </ol>
        ) : null}
      </section>

      <section aria-label="Answers" className="live-jobs">
        {asked.map((job) => (
          <JobCard key={job.jobId} jobId={job.jobId} question={job.question} />
        ))}
      </section>

      <AskForm onAsk={ask} />
    </div>
  );
}
