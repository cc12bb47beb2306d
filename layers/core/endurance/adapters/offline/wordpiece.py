"""BERT's uncased WordPiece tokenizer in plain Python (the `tokenizers` package's BertNormalizer +
BertPreTokenizer + WordPiece, as configured in all-MiniLM-L6-v2's ``tokenizer.json``).

Written out here rather than taken from the ``tokenizers`` package because that package pulls
``huggingface_hub``, whose ``click`` pin conflicts with the SAM CLI's; the unit tests check the ids against
ones produced by ``tokenizers`` for the same model.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

MAX_CHARS_PER_WORD = 100


class WordPieceTokenizer:
    def __init__(
        self, vocab: Mapping[str, int], *, unk: str = "[UNK]", cls: str = "[CLS]", sep: str = "[SEP]"
    ):
        self.vocab = dict(vocab)
        self.unk_id = self.vocab[unk]
        self.cls_id = self.vocab[cls]
        self.sep_id = self.vocab[sep]
        # Per-instance cache: the same words recur constantly in a corpus.
        self._word_ids = lru_cache(maxsize=200_000)(self._wordpiece)

    @classmethod
    def from_vocab_file(cls, path: Path) -> WordPieceTokenizer:
        tokens = path.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        return cls({token: number for number, token in enumerate(tokens)})

    def encode(self, text: str, max_length: int) -> list[int]:
        """``[CLS] ids [SEP]``, truncated to ``max_length`` ids in all."""
        budget = max_length - 2
        ids: list[int] = []
        for word in pre_tokenize(normalize(text)):
            ids.extend(self._word_ids(word))
            if len(ids) >= budget:
                break
        return [self.cls_id, *ids[:budget], self.sep_id]

    def token_ids(self, text: str) -> list[int]:
        """Every WordPiece id of the text, without ``[CLS]``/``[SEP]`` and without truncation."""
        return [token for word in pre_tokenize(normalize(text)) for token in self._word_ids(word)]

    def _wordpiece(self, word: str) -> tuple[int, ...]:
        if len(word) > MAX_CHARS_PER_WORD:
            return (self.unk_id,)
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return (self.unk_id,)
            pieces.append(found)
            start = end
        return tuple(pieces)


def normalize(text: str) -> str:
    """Clean control characters, space out CJK ideographs, lower-case and strip accents."""
    out: list[str] = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if _is_whitespace(char):
            out.append(" ")
        elif _is_cjk(code):
            out.extend((" ", char, " "))
        else:
            out.append(char)
    lowered = "".join(out).lower()
    decomposed = unicodedata.normalize("NFD", lowered)
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def pre_tokenize(text: str) -> Iterable[str]:
    """Split on whitespace, and make every punctuation character a word of its own."""
    for token in text.split():
        current: list[str] = []
        for char in token:
            if _is_punctuation(char):
                if current:
                    yield "".join(current)
                    current = []
                yield char
            else:
                current.append(char)
        if current:
            yield "".join(current)


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    # BERT treats every non-alphanumeric ASCII character as punctuation ("$", "^", "`" are not in Unicode P*).
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )
