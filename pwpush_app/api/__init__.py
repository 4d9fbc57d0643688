"""The JSON API (Password Pusher compatible): a FastAPI app mounted on Reflex's one port."""

from fastapi import FastAPI


def build_api() -> FastAPI:
    api = FastAPI(title="Password Pusher API", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    return api
