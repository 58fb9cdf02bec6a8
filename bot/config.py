"""Settings, read once from the environment (and from ``.env`` through python-dotenv)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

DEFAULT_API_URL = "https://slack.com/api/"
LANGUAGES = ("zh", "en")
# The largest request body /slack/events reads. Slack's largest requests are modal
# submissions: the view (Slack allows 100 blocks; our largest form renders to under 20 KB)
# and what was typed (a text input holds at most 3,000 characters and our largest form has
# fewer than 20 fields: at 3 UTF-8 bytes a CJK character, percent-encoded to 9, under
# 540 KB), and message events (a message's text is at most 40,000 characters: under
# 360 KB even if all of it were escaped the same way). 1 MiB is above both with room to
# spare, and small enough that a refusal costs nothing.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it and says what to write."""


def _ids(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    bot_token: str = ""
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_API_URL
    database_url: str = "sqlite:///si-bot.db"
    admins: tuple[str, ...] = ()
    admin_channel: str = ""
    help_channels: tuple[str, ...] = ()
    timezone: str = "Asia/Shanghai"
    language: str = "zh"
    policy_file: str = ""
    log_level: str = "INFO"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def missing_for_http(self) -> list[str]:
        return [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.bot_token),
                ("SLACK_SIGNING_SECRET", self.signing_secret),
            )
            if not value
        ]

    def missing_for_socket_mode(self) -> list[str]:
        return [
            name
            for name, value in (("SLACK_BOT_TOKEN", self.bot_token), ("SLACK_APP_TOKEN", self.app_token))
            if not value
        ]


def load_settings(env: dict[str, str] | None = None, dotenv_path: str | Path | None = None) -> Settings:
    """Settings from ``env`` (default: the process environment after loading ``.env``)."""
    if env is None:
        load_dotenv(dotenv_path or Path.cwd() / ".env", override=False)
        env = dict(os.environ)
    api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
    if not api_url.endswith("/"):
        api_url += "/"  # WebClient joins method names onto it
    language = env.get("SI_LANGUAGE", "zh").strip().lower() or "zh"
    if language not in LANGUAGES:
        raise ConfigError(f"SI_LANGUAGE must be one of {', '.join(LANGUAGES)}, not {language!r}")
    timezone = env.get("SI_TIMEZONE", "").strip() or "Asia/Shanghai"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"SI_TIMEZONE {timezone!r} is not a known time zone (e.g. Asia/Shanghai)") from exc
    max_body = env.get("SI_MAX_BODY_BYTES", "").strip() or str(DEFAULT_MAX_BODY_BYTES)
    if not max_body.isdigit() or int(max_body) < 1:
        raise ConfigError(
            f"SI_MAX_BODY_BYTES must be a whole number of bytes (e.g. 1048576), not {max_body!r}"
        )
    return Settings(
        bot_token=env.get("SLACK_BOT_TOKEN", "").strip(),
        signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
        app_token=env.get("SLACK_APP_TOKEN", "").strip(),
        api_url=api_url,
        database_url=env.get("DATABASE_URL", "").strip() or "sqlite:///si-bot.db",
        admins=_ids(env.get("SI_ADMINS", "")),
        admin_channel=env.get("SI_ADMIN_CHANNEL", "").strip(),
        help_channels=_ids(env.get("SI_HELP_CHANNELS", "")),
        timezone=timezone,
        language=language,
        policy_file=env.get("SI_POLICY_FILE", "").strip(),
        log_level=env.get("SI_LOG_LEVEL", "INFO").strip().upper() or "INFO",
        max_body_bytes=int(max_body),
    )
