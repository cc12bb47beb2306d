export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "unknown";
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function formatScore(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value.toFixed(2);
}

export function shortId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}

const ROUTE_WORDS: Record<string, string> = {
  rag: "answered from the documents",
  direct: "answered directly",
  human_review: "passed to a person",
  blocked: "blocked",
};

export function routeWords(route: string | null | undefined): string {
  if (!route) return "not classified yet";
  return ROUTE_WORDS[route] ?? route;
}

export function generationWords(generation: {
  provider?: string;
  model?: string;
  tokens_in?: number;
  tokens_out?: number;
  latency_ms?: number;
  cost_usd?: number;
} | null | undefined): string | null {
  if (!generation || (!generation.provider && !generation.model)) return null;
  const parts = [[generation.provider, generation.model].filter(Boolean).join(" / ")];
  if (typeof generation.latency_ms === "number") parts.push(formatMs(generation.latency_ms));
  if (generation.tokens_in || generation.tokens_out) {
    parts.push(`${generation.tokens_in ?? 0} tokens in, ${generation.tokens_out ?? 0} out`);
  }
  if (typeof generation.cost_usd === "number" && generation.cost_usd > 0) parts.push(`$${generation.cost_usd.toFixed(4)}`);
  return `Written by ${parts.join(" · ")}`;
}
