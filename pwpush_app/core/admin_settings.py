"""The effective settings for administrators: every variable with its value in force and where
it came from, secrets redacted by their declaration (settings_effective.py)."""

from __future__ import annotations

from pwpush_app.core.admin import require_admin_area
from pwpush_app.core.runtime import Runtime
from pwpush_app.settings_effective import EffectiveSetting, effective_settings


def settings_for_admin(runtime: Runtime, admin_id: str | None) -> list[EffectiveSetting]:
    """For administrators only (`require_admin_area`): the settings this process runs with."""
    require_admin_area(runtime, admin_id)
    return effective_settings(runtime.settings.environment)
