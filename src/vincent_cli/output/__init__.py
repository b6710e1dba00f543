"""Output for people (terminal) and for programs (pipes)."""
