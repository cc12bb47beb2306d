"""Answer quality on the dev set: routes, key figures in fact answers, refusals. See ``__main__``."""
