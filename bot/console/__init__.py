"""The console: a terminal chat that drives the real app without Slack."""
