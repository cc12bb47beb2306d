import type { LinkState } from "../live/jobTracker";

export function linkWords(link: LinkState): { tone: "ok" | "warn" | "quiet"; text: string } {
  switch (link.kind) {
    case "live":
      return { tone: "ok", text: "Live updates connected." };
    case "connecting":
      return link.attempt === 0
        ? { tone: "quiet", text: "Connecting for live updates…" }
        : { tone: "warn", text: `Reconnecting for live updates (attempt ${link.attempt + 1})…` };
    case "reconnecting": {
      const seconds = Math.max(1, Math.round(link.retryInMs / 1000));
      return {
        tone: "warn",
        text:
          `Live updates lost: reconnecting in ${seconds} s (attempt ${link.attempt}). ` +
          "Meanwhile the dashboard checks for results every few seconds, so none will be missed.",
      };
    }
    default:
      return { tone: "quiet", text: "Live updates start with your next question." };
  }
}

export function ConnectionBanner({ link }: { link: LinkState }) {
  const { tone, text } = linkWords(link);
  return (
    <p className={`connection connection-${tone}`} role="status" data-testid="connection">
      <span className="dot" aria-hidden="true" />
      {text}
    </p>
  );
}
