// Small persisted values: the chat session (kept across visits) and the admin token (this tab only).

const SESSION_KEY = "endurance.session_id";
const TOKEN_KEY = "endurance.admin_token";

function safe<T>(action: () => T, fallback: T): T {
  try {
    return action();
  } catch {
    return fallback; // storage disabled (private mode, sandboxed frame)
  }
}

export const sessionStore = {
  get: (): string | null => safe(() => window.localStorage.getItem(SESSION_KEY), null),
  set: (id: string): void => safe(() => window.localStorage.setItem(SESSION_KEY, id), undefined),
  clear: (): void => safe(() => window.localStorage.removeItem(SESSION_KEY), undefined),
};

export const adminTokenStore = {
  get: (): string | null => safe(() => window.sessionStorage.getItem(TOKEN_KEY), null),
  set: (token: string): void => safe(() => window.sessionStorage.setItem(TOKEN_KEY, token), undefined),
  clear: (): void => safe(() => window.sessionStorage.removeItem(TOKEN_KEY), undefined),
};
