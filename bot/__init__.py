"""si-bot: a Slack app for a company's social insurance administrator."""

__version__ = "0.1.0"
