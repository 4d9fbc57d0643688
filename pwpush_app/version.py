"""The application's version: what the API's version endpoints and the pages' footer say."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version


@functools.cache
def application_version() -> str:
    try:
        return version("pwpush-app")
    except PackageNotFoundError:
        return "0.0.0"
