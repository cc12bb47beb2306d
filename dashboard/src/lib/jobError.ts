import type { JobError } from "../api/types";

const MAX_CHARS = 300;

/** A job's error in one readable line. The state machine's Catch stores the Lambda error's JSON (message
 * and stack trace) as the message; the person reading wants the message only. */
export function jobErrorText(error: JobError | null | undefined): string {
  if (!error) return "unknown error";
  let message = typeof error.message === "string" ? error.message : "";
  if (message.startsWith("{")) {
    try {
      const parsed = JSON.parse(message) as { errorMessage?: unknown };
      if (typeof parsed.errorMessage === "string") message = parsed.errorMessage;
    } catch {
      // Stored cut to a length, so no longer valid JSON: the message still leads it.
      const found = /"errorMessage"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(message);
      if (found) message = JSON.parse(`"${found[1]}"`) as string;
    }
  }
  if (message.length > MAX_CHARS) message = `${message.slice(0, MAX_CHARS)}…`;
  const type = typeof error.type === "string" ? error.type : "Error";
  const step = typeof error.step === "string" ? ` in ${error.step}` : "";
  return message ? `${type}${step}: ${message}` : `${type}${step}`;
}
