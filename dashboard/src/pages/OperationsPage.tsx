import { useCallback, useEffect, useId, useRef, useState } from "react";
import { ApiError } from "../api/client";
import type { DeadLetterPeek, DeadLetterQueue, DocumentStatus, ReplayReport } from "../api/types";
import { AdminTokenForm } from "../components/AdminTokenForm";
import { StatusBadge } from "../components/Badges";
import { ErrorMessage } from "../components/ErrorMessage";
import { useServices } from "../context";
import { useTrackedJob } from "../live/hooks";
import { formatAge, formatTime, shortId } from "../lib/format";
import { jobErrorText } from "../lib/jobError";
import { hrefFor } from "../lib/router";

const MAX_REPLAY = 100;
/** A job's messages replayed at once by its row's button (a job rarely has more than one waiting). */
const MAX_JOB_REPLAY = 10;

/** A job a replay restarted: followed live until it finishes again. */
function ReplayedJob({ jobId }: { jobId: string }) {
  const { tracker } = useServices();
  // Before useTrackedJob's effect (effects run in order): the job's earlier FAILED result is forgotten.
  useEffect(() => tracker.restart(jobId), [tracker, jobId]);
  const job = useTrackedJob(tracker, jobId);
  return (
    <li data-job-id={jobId}>
      <a href={hrefFor({ page: "job", jobId })}>
        <code>{shortId(jobId)}</code>
      </a>{" "}
      <StatusBadge status={job?.status ?? "QUEUED"} />
    </li>
  );
}

function DeadLetters({
  peek,
  disabled,
  onReplayJob,
}: {
  peek: DeadLetterPeek;
  disabled: boolean;
  onReplayJob: (jobId: string) => void;
}) {
  if (peek.messages.length === 0) return <p className="muted">No messages are waiting in this queue.</p>;
  return (
    <div className="table-scroll" role="region" aria-label={`Messages in ${peek.queue}`} tabIndex={0}>
      <table className="dead-letters">
        <caption className="sr-only">Messages waiting in {peek.queue}, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Error</th>
            <th scope="col">Age</th>
            <th scope="col">Replays</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {peek.messages.map((message) => (
            <tr key={message.message_id} data-job-id={message.job_id ?? undefined}>
              <th scope="row" className="nowrap">
                {message.job_id ? (
                  <a href={hrefFor({ page: "job", jobId: message.job_id })} title={message.job_id}>
                    <code>{shortId(message.job_id)}</code>
                    <span className="sr-only"> (job {message.job_id})</span>
                  </a>
                ) : (
                  <span className="muted">no job ({message.kind.replace("_", " ")})</span>
                )}
              </th>
              <td>
                {message.error ? (
                  jobErrorText(message.error)
                ) : (
                  <span className="muted">not recorded (its consumer failed on it)</span>
                )}
              </td>
              <td className="nowrap" title={message.sent_at ?? undefined}>
                {formatAge(message.age_seconds)}
              </td>
              <td>{message.replay_count}</td>
              <td>
                {message.job_id ? (
                  <button
                    type="button"
                    aria-label={`Replay job ${message.job_id}`}
                    onClick={() => onReplayJob(message.job_id!)}
                    disabled={disabled}
                  >
                    Replay
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DlqRow({ dlq, onChanged }: { dlq: DeadLetterQueue; onChanged: () => void }) {
  const { client } = useServices();
  const [peek, setPeek] = useState<DeadLetterPeek | null>(null);
  const [open, setOpen] = useState(false);
  const [preview, setPreview] = useState<ReplayReport | null>(null);
  const [result, setResult] = useState<ReplayReport | null>(null);
  // The job a row's Replay button asked for, so an empty report can say which job was not found.
  const [resultJob, setResultJob] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const panelId = useId();

  const run = async (what: string, action: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(null);
    }
  };

  const loadPeek = () => run("peek", async () => setPeek(await client.peekDlq(dlq.queue, 50)));

  const toggle = () => {
    const next = !open;
    setOpen(next);
    if (next) void loadPeek();
  };

  const previewReplay = () =>
    run("preview", async () => {
      setResult(null);
      setPreview(await client.replayDlq(dlq.queue, Math.min(MAX_REPLAY, Math.max(1, dlq.messages)), true));
    });

  const replayed = async (report: ReplayReport, jobId: string | null) => {
    setPreview(null);
    setResult(report);
    setResultJob(jobId);
    onChanged();
    if (open) setPeek(await client.peekDlq(dlq.queue, 50));
  };

  const replay = (count: number) =>
    run("replay", async () => replayed(await client.replayDlq(dlq.queue, count, false), null));

  // A row's own button: the API filters by job id, so exactly that job goes back, never whichever SQS hands out.
  const replayJob = (jobId: string) =>
    run("replay", async () => replayed(await client.replayJob(dlq.queue, jobId, MAX_JOB_REPLAY), jobId));

  const empty = dlq.messages === 0;
  return (
    <li className="dlq" data-queue={dlq.queue}>
      <div className="dlq-head">
        <div>
          <h3 className="dlq-name">{dlq.queue}</h3>
          <p className="small muted">replays to {dlq.source}</p>
        </div>
        <p className={`depth ${empty ? "depth-zero" : "depth-some"}`} data-testid="depth">
          <strong>{dlq.messages}</strong> message{dlq.messages === 1 ? "" : "s"}
        </p>
      </div>
      <div className="actions">
        <button type="button" aria-expanded={open} aria-controls={panelId} onClick={toggle}>
          {open ? "Hide messages" : "Show messages"}
        </button>
        <button type="button" onClick={() => void previewReplay()} disabled={empty || busy !== null}>
          Preview replay
        </button>
        <button
          type="button"
          onClick={() => void replay(Math.min(MAX_REPLAY, dlq.messages))}
          disabled={empty || busy !== null}
        >
          Replay all
        </button>
      </div>
      {busy ? (
        <p className="small muted" role="status">
          {busy === "peek" ? "Reading messages…" : busy === "preview" ? "Preparing a preview…" : "Replaying…"}
        </p>
      ) : null}
      <ErrorMessage error={error} title={`${dlq.queue}`} />
      {preview ? (
        <div className="preview" role="region" aria-label={`Replay preview for ${dlq.queue}`}>
          <p>
            Dry run: {preview.messages.length} message{preview.messages.length === 1 ? "" : "s"} would go back to{" "}
            <strong>{preview.source}</strong>. Nothing was moved.
          </p>
          <ul className="preview-list">
            {preview.messages.map((message) => (
              <li key={message.message_id}>
                {message.job_id ? <code>{message.job_id}</code> : <span className="muted">message {shortId(message.message_id)}</span>}
              </li>
            ))}
          </ul>
          <div className="actions">
            <button type="button" onClick={() => void replay(preview.messages.length)} disabled={busy !== null || preview.messages.length === 0}>
              Replay these {preview.messages.length}
            </button>
            <button type="button" className="button-quiet" onClick={() => setPreview(null)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      {result ? (
        <div className="replayed" role="status">
          <p>
            Replayed {result.replayed} message{result.replayed === 1 ? "" : "s"} to <strong>{result.source}</strong>.
            {resultJob && result.replayed === 0 ? (
              <> No message of job <code>{resultJob}</code> was waiting in {result.queue} any more.</>
            ) : null}
          </p>
          {result.messages.some((message) => message.job_id) ? (
            <ul className="replayed-jobs" aria-label="Replayed jobs">
              {result.messages
                .filter((message) => message.job_id)
                .map((message) => (
                  <ReplayedJob key={message.message_id} jobId={message.job_id!} />
                ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <div id={panelId} hidden={!open}>
        {open && peek ? (
          <DeadLetters peek={peek} disabled={busy !== null} onReplayJob={(jobId) => void replayJob(jobId)} />
        ) : null}
      </div>
    </li>
  );
}

function DeadLetterQueues() {
  const { client, adminTokenVersion } = useServices();
  const [dlqs, setDlqs] = useState<DeadLetterQueue[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setDlqs((await client.listDlqs()).dlqs);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load, adminTokenVersion]);

  const total = dlqs?.reduce((sum, dlq) => sum + dlq.messages, 0) ?? 0;
  return (
    <section aria-labelledby="dlq-title" className="ops-section">
      <div className="page-head">
        <h2 id="dlq-title">Dead-letter queues</h2>
        <button type="button" onClick={() => void load()} disabled={loading}>
          {loading ? "Loading…" : "Refresh"}
        </button>
      </div>
      {error instanceof ApiError && error.needsAdminToken ? (
        <AdminTokenForm />
      ) : (
        <ErrorMessage error={error} title="Dead-letter queues could not be loaded" />
      )}
      {dlqs ? (
        <>
          <p className={total > 0 ? "flag-bad" : "muted"}>
            {total === 0 ? "Every dead-letter queue is empty." : `${total} message${total === 1 ? "" : "s"} waiting.`}
          </p>
          <ul className="dlqs">
            {dlqs.map((dlq) => (
              <DlqRow key={dlq.queue} dlq={dlq} onChanged={() => void load()} />
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(new Error(`Could not read ${file.name}.`));
    reader.onload = () => {
      const url = String(reader.result ?? "");
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.readAsDataURL(file);
  });
}

function Documents() {
  const { client, adminTokenVersion } = useServices();
  const [documents, setDocuments] = useState<DocumentStatus[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [file, setFile] = useState<File | null>(null);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<unknown>(null);
  const [uploaded, setUploaded] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();

  const load = useCallback(async () => {
    setError(null);
    try {
      setDocuments(await client.listDocuments());
    } catch (failure) {
      setError(failure);
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load, adminTokenVersion]);

  // Ingestion runs in the background and writes the status when it starts: while a document is PENDING,
  // or an upload from here is not listed yet, look again every few seconds.
  const [awaited, setAwaited] = useState<string[]>([]);
  const settled = (name: string) =>
    documents?.some((document) => document.doc === name && document.status !== "PENDING") ?? false;
  const pending =
    (documents?.some((document) => document.status === "PENDING") ?? false) || awaited.some((name) => !settled(name));
  useEffect(() => {
    if (!pending) return undefined;
    const timer = setTimeout(() => void load(), 2000);
    return () => clearTimeout(timer);
  }, [pending, documents, load]);

  const upload = async () => {
    if (!file) return;
    setUploading(true);
    setUploadError(null);
    setUploaded(null);
    try {
      await client.uploadDocument(file.name, await readAsBase64(file));
      setUploaded(file.name);
      setAwaited((names) => [...names.filter((name) => name !== file.name), file.name]);
      setFile(null);
      if (input.current) input.current.value = "";
      await load();
    } catch (failure) {
      setUploadError(failure);
    } finally {
      setUploading(false);
    }
  };

  return (
    <section aria-labelledby="documents-title" className="ops-section">
      <div className="page-head">
        <h2 id="documents-title">Documents</h2>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <form
        className="upload"
        onSubmit={(event) => {
          event.preventDefault();
          void upload();
        }}
      >
        <label htmlFor={`${id}-file`}>Document to index (Markdown, text, HTML or PDF)</label>
        <input
          id={`${id}-file`}
          ref={input}
          type="file"
          accept=".md,.markdown,.txt,.html,.htm,.pdf,text/markdown,text/plain,text/html,application/pdf"
          onChange={(event) => setFile(event.target.files?.[0] ?? null)}
        />
        <button type="submit" disabled={!file || uploading}>
          {uploading ? "Uploading…" : "Upload"}
        </button>
      </form>
      {uploaded ? (
        <p role="status">
          {uploaded} was uploaded; it is indexed in the background (its status shows below).
        </p>
      ) : null}
      <ErrorMessage error={uploadError} title="Upload failed" />
      {error instanceof ApiError && error.needsAdminToken ? (
        <AdminTokenForm />
      ) : (
        <ErrorMessage error={error} title="Documents could not be loaded" />
      )}
      {documents ? (
        documents.length === 0 ? (
          <p className="muted">No documents yet.</p>
        ) : (
          <div className="table-scroll" role="region" aria-label="Documents" tabIndex={0}>
            <table>
              <caption className="sr-only">Documents and their ingestion status</caption>
              <thead>
                <tr>
                  <th scope="col">Document</th>
                  <th scope="col">Status</th>
                  <th scope="col">Chunks</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {documents.map((document) => (
                  <tr key={document.doc}>
                    <th scope="row">{document.doc}</th>
                    <td>
                      <span className={`badge doc-${String(document.status).toLowerCase()}`}>{document.status}</span>
                      {document.error ? <span className="small flag-bad"> {document.error}</span> : null}
                    </td>
                    <td>{document.chunks ?? "—"}</td>
                    <td className="nowrap">{formatTime(document.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </section>
  );
}

export function OperationsPage() {
  return (
    <div className="page">
      <h1>Operations</h1>
      <DeadLetterQueues />
      <Documents />
    </div>
  );
}
