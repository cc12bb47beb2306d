"""Pure step logic of the chat pipeline: classify, retrieve, answer, evaluate. No AWS, no I/O of its own."""
