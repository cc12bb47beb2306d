import { useId, useState } from "react";
import { ErrorMessage } from "./ErrorMessage";

export const MAX_QUESTION_CHARS = 4000;

interface Props {
  onAsk: (question: string) => Promise<void>;
}

export function AskForm({ onAsk }: Props) {
  const [question, setQuestion] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const id = useId();
  const trimmed = question.trim();
  const tooLong = trimmed.length > MAX_QUESTION_CHARS;
  const canSend = trimmed.length > 0 && !tooLong && !busy;

  const submit = async () => {
    if (!canSend) return;
    setBusy(true);
    setError(null);
    try {
      await onAsk(trimmed);
      setQuestion("");
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="ask"
      aria-label="Ask a question"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label htmlFor={`${id}-question`}>Your question</label>
      <textarea
        id={`${id}-question`}
        name="question"
        rows={3}
        value={question}
        placeholder="e.g. Within what time must an AI incident be reported, and to whom?"
        aria-describedby={`${id}-hint`}
        aria-invalid={tooLong}
        onChange={(event) => setQuestion(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
            event.preventDefault();
            void submit();
          }
        }}
      />
      <div className="ask-row">
        <span id={`${id}-hint`} className={`small ${tooLong ? "flag-bad" : "muted"}`}>
          {tooLong
            ? `Too long: ${trimmed.length} of at most ${MAX_QUESTION_CHARS} characters.`
            : "Enter sends, Shift+Enter starts a new line."}
        </span>
        <button type="submit" disabled={!canSend}>
          {busy ? "Sending…" : "Ask"}
        </button>
      </div>
      <ErrorMessage error={error} title="The question was not sent" />
    </form>
  );
}
