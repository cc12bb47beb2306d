// The runtime configuration: where the APIs are. Read from ./config.json at start-up, never built into the
// bundle, so the same build runs locally (the API serves the file) and on AWS (written next to the bundle).

export interface RuntimeConfig {
  apiUrl: string;
  websocketUrl: string;
  adminTokenRequired: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function isUrl(value: unknown, protocols: string[]): value is string {
  if (typeof value !== "string" || !value) return false;
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export function parseConfig(data: unknown): RuntimeConfig {
  if (typeof data !== "object" || data === null) throw new ConfigError("config.json is not a JSON object.");
  const raw = data as Record<string, unknown>;
  if (!isUrl(raw.api_url, ["http:", "https:"])) {
    throw new ConfigError(`config.json: api_url must be an http(s) URL (got ${JSON.stringify(raw.api_url)}).`);
  }
  if (!isUrl(raw.websocket_url, ["ws:", "wss:"])) {
    throw new ConfigError(
      `config.json: websocket_url must be a ws(s) URL (got ${JSON.stringify(raw.websocket_url)}).`,
    );
  }
  return {
    apiUrl: raw.api_url.replace(/\/+$/, ""),
    websocketUrl: raw.websocket_url,
    adminTokenRequired: raw.admin_token_required === true,
  };
}

export async function loadConfig(
  url = "./config.json",
  fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init),
): Promise<RuntimeConfig> {
  let response: Response;
  try {
    response = await fetchImpl(url, { cache: "no-store", headers: { accept: "application/json" } });
  } catch (error) {
    throw new ConfigError(`Could not load the dashboard configuration (${url}): ${String(error)}`);
  }
  if (!response.ok) {
    throw new ConfigError(
      `Could not load the dashboard configuration: ${url} answered ${response.status}. ` +
        "Locally it is served by the API (`make run`); on AWS it is written by `make dashboard-deploy`.",
    );
  }
  let data: unknown;
  try {
    data = await response.json();
  } catch {
    throw new ConfigError(`The dashboard configuration (${url}) is not JSON.`);
  }
  return parseConfig(data);
}
