"""Estimated cost of a call: list prices in USD per million tokens (input, output), as published by the
providers when this table was written. Unknown models cost 0 unless LLM_PRICE_PER_MTOK overrides; the
figure is an estimate for dashboards and budgets, not an invoice.
"""

from __future__ import annotations

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    # Groq
    "llama-3.3-70b-versatile": (0.59, 0.79),
    "llama-3.1-8b-instant": (0.05, 0.08),
    "openai/gpt-oss-120b": (0.15, 0.75),
    "openai/gpt-oss-20b": (0.10, 0.50),
    # OpenAI
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}


def estimate_cost_usd(
    model: str, tokens_in: int, tokens_out: int, override: tuple[float, float] | None = None
) -> float:
    price_in, price_out = override or _price_of(model)
    return round((tokens_in * price_in + tokens_out * price_out) / 1_000_000, 8)


def _price_of(model: str) -> tuple[float, float]:
    """Exact name first, then the longest listed name the served one starts with (dated snapshots)."""
    if model in PRICES_PER_MTOK:
        return PRICES_PER_MTOK[model]
    prefixes = [name for name in PRICES_PER_MTOK if model.startswith(name)]
    return PRICES_PER_MTOK[max(prefixes, key=len)] if prefixes else (0.0, 0.0)


def parse_price_override(value: str) -> tuple[float, float] | None:
    """``"0.59,0.79"`` -> (0.59, 0.79); empty -> None. Raises ValueError on anything else."""
    if not value.strip():
        return None
    parts = [float(part) for part in value.split(",")]
    if len(parts) != 2 or min(parts) < 0:
        raise ValueError("expected two non-negative numbers: input,output USD per million tokens")
    return parts[0], parts[1]
