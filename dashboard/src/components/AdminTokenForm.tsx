import { useId, useState } from "react";
import { useServices } from "../context";

/** Shown when the admin routes answer 401/403: the token is kept for this browser tab only. */
export function AdminTokenForm() {
  const { setAdminToken, hasAdminToken } = useServices();
  const [token, setToken] = useState("");
  const id = useId();
  return (
    <form
      className="admin-token"
      aria-label="Enter the admin token"
      onSubmit={(event) => {
        event.preventDefault();
        if (token.trim()) setAdminToken(token.trim());
      }}
    >
      <p>
        {hasAdminToken
          ? "The admin token was refused. Enter the right one:"
          : "This stack protects its admin routes with a token (the AdminToken parameter)."}
      </p>
      <label htmlFor={`${id}-token`}>Admin token</label>
      <input
        id={`${id}-token`}
        type="password"
        autoComplete="off"
        value={token}
        onChange={(event) => setToken(event.target.value)}
      />
      <button type="submit" disabled={!token.trim()}>
        Use token
      </button>
    </form>
  );
}
