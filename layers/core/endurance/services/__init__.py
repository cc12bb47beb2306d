"""Use cases the Lambda handlers call. Each takes its ports as arguments, so it is testable without AWS."""
