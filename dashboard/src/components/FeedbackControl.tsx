import { useState } from "react";
import { useServices } from "../context";
import { ErrorMessage } from "./ErrorMessage";

export function FeedbackControl({ jobId }: { jobId: string }) {
  const { client } = useServices();
  const [rating, setRating] = useState<"up" | "down" | null>(null);
  const [comment, setComment] = useState("");
  const [state, setState] = useState<"idle" | "sending" | "sent">("idle");
  const [error, setError] = useState<unknown>(null);
  const commentId = `feedback-comment-${jobId}`;

  const send = async () => {
    if (!rating) return;
    setState("sending");
    setError(null);
    try {
      await client.feedback(jobId, rating, comment);
      setState("sent");
    } catch (failure) {
      setError(failure);
      setState("idle");
    }
  };

  if (state === "sent") {
    return (
      <p className="feedback-done" role="status">
        Thank you: your feedback ({rating === "up" ? "helpful" : "not helpful"}) was saved.
      </p>
    );
  }
  return (
    <form
      className="feedback"
      aria-label="Feedback on this answer"
      onSubmit={(event) => {
        event.preventDefault();
        void send();
      }}
    >
      <fieldset>
        <legend>Was this answer helpful?</legend>
        <button
          type="button"
          className="thumb"
          aria-pressed={rating === "up"}
          onClick={() => setRating(rating === "up" ? null : "up")}
        >
          Helpful
        </button>
        <button
          type="button"
          className="thumb"
          aria-pressed={rating === "down"}
          onClick={() => setRating(rating === "down" ? null : "down")}
        >
          Not helpful
        </button>
      </fieldset>
      {rating ? (
        <>
          <label htmlFor={commentId}>Comment (optional)</label>
          <textarea
            id={commentId}
            rows={2}
            maxLength={2000}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
          />
          <button type="submit" disabled={state === "sending"}>
            {state === "sending" ? "Sending…" : "Send feedback"}
          </button>
        </>
      ) : null}
      <ErrorMessage error={error} title="Feedback not saved" />
    </form>
  );
}
