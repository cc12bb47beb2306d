"""The Endurance metrics engine: a responsible-AI evaluation of one (question, contexts, answer) triple.

Offline and deterministic by default (pure Python, a few milliseconds per answer); an optional LLM judge
(``judge.py``) can replace the faithfulness verdict and falls back to the offline engine on any error.

Modules, in the order the engine uses them:
``spans`` (sentences, clauses, tokens with offsets) -> ``lexicon`` (stems, synonyms, cue words) ->
``quantities`` (numbers, money, dates, times, durations; arithmetic derivation) -> ``entities`` ->
``alignment`` (answer clause to best-supporting context clause) -> ``faithfulness`` (exact checks and
support scoring per clause) -> ``relevance``, ``refusal``, ``pii``, ``toxicity`` -> ``engine`` (verdict).
"""
