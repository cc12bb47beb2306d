"""The condense prompt: turn a follow-up into a question that stands on its own."""

V1 = (
    (
        "system",
        "Rewrite the user's latest message as a standalone question that can be understood without the "
        "conversation. Resolve pronouns and ellipsis from the earlier turns; keep every figure, year and "
        "name; add nothing else. If the message already stands alone, return it unchanged. Reply with the "
        "question only.",
    ),
    ("human", "Conversation so far:\n{history}\n\nLatest message: {question}"),
)
