"""Turn an LLM's passage citations into the answer's own numbering.

The model cites passages by their position in the prompt ([3] = the third retrieved chunk). The answer
keeps only the chunks it cites, numbered by first citation, so ``[n]`` always means ``sources[n-1]``.
Citations to passages that do not exist are dropped; "[1, 3]" and "[1][3]" are both understood.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from endurance.domain.models import Chunk, Source

_GROUP = re.compile(r"\s?\[(\d+(?:\s*[,;]\s*\d+)*)\]")


def renumber_citations(text: str, chunks: Sequence[Chunk]) -> tuple[str, list[Source]]:
    order: dict[int, int] = {}

    def replace(match: re.Match[str]) -> str:
        cited = [int(n) for n in re.split(r"\s*[,;]\s*", match.group(1))]
        numbers = []
        for passage in cited:
            if 1 <= passage <= len(chunks):
                if passage not in order:
                    order[passage] = len(order) + 1
                numbers.append(order[passage])
        return " " + "".join(f"[{n}]" for n in dict.fromkeys(numbers)) if numbers else ""

    rewritten = _GROUP.sub(replace, text)
    rewritten = re.sub(r" +([.,;:!?])", r"\1", rewritten).strip()
    sources = [
        Source(doc=chunk.doc, section=chunk.section, chunk_id=chunk.chunk_id, score=chunk.score)
        for chunk in (chunks[passage - 1] for passage in order)
    ]
    return rewritten, sources
