"""LLM providers behind one small chat port: Groq, any OpenAI-compatible endpoint, and what makes them safe
to depend on (retries with jittered backoff, Retry-After, a circuit breaker, a fallback chain).

Nothing here imports an SDK at module level: the offline path and handler cold starts never pay for them.
"""
