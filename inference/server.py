"""The HTTP service: ``create_app(predictor)`` builds a FastAPI app, ``serve(run, ...)`` runs it with uvicorn.

Endpoints: ``POST /predict`` (sentences), ``POST /score`` (articles; the rows of ``stanceframe score``,
made by the same :func:`~inference.scoring.score_batch`), ``POST /render`` (one article as the
highlighted HTML of the report, used by the page), ``GET /health``, ``GET /`` (the page),
``GET /docs`` and ``GET /openapi.json``.

Limits: a request body over ``max_body_bytes`` (default 1 MB) is refused with 413 before it is
parsed (by ``Content-Length``, and by counting the bytes of a chunked body as they arrive); a body
that does not validate gets 422 with ``message`` naming the field (``articles[0].text: Field required``)
and FastAPI's ``detail`` list. The model is loaded once; calls into it are serialised by a lock,
so concurrent requests are safe (each request is already one batch).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MAX_BODY_BYTES = 1_000_000
MAX_ITEMS = 1000


# ------------------------------------------------------------------------------------------ models

class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sentences: list[str] = Field(min_length=1, max_length=MAX_ITEMS, description="sentences to label")
    explain: bool = Field(False, description="add the words behind each label")


class SentencePrediction(BaseModel):
    model_config = ConfigDict(extra="allow")  # one ``stance_<target>`` field per target of the schema
    text: str
    frames: list[str]
    probabilities: dict[str, dict[str, float]]
    explanation: dict[str, dict[str, list[tuple[str, float]]]] | None = None


class PredictResponse(BaseModel):
    predictions: list[SentencePrediction]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # title, date, source, url, ... are kept on the article row
    id: str = Field(min_length=1, description="article id, unique within the request")
    text: str = Field(description="the article text")
    lang: str | None = Field(None, description="language code; detected when omitted")


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    articles: list[ArticleIn] = Field(min_length=1, max_length=MAX_ITEMS)
    explain: bool = Field(False, description="add explanations to sentence rows")


class ScoreResponse(BaseModel):
    articles: list[dict[str, Any]] = Field(description="rows of articles.jsonl, in request order")
    sentences: list[dict[str, Any]] = Field(description="rows of sentences.jsonl, in order")


class RenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, description="the article text")
    lang: str | None = None
    id: str = Field("article", min_length=1)
    title: str | None = None


class RenderResponse(BaseModel):
    html: str
    article: dict[str, Any]
    sentences: list[dict[str, Any]]


class Health(BaseModel):
    status: str
    kind: str
    model: str | None
    targets: list[str]
    stance_values: list[str]
    frames: list[str]
    max_body_bytes: int


# --------------------------------------------------------------------------------------- middleware

class BodyLimit:
    """ASGI middleware: read the request body (at most ``limit`` bytes) before the app sees it; 413 beyond."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._too_large(send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await self._too_large(send)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send):
        response = JSONResponse({"message": f"request body too large: the limit is {self.limit} bytes",
                                 "detail": "payload too large"}, status_code=413)
        await response({"type": "http"}, None, send)


def _field_path(loc) -> str:
    parts = [p for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


# ----------------------------------------------------------------------------------------------- app

def create_app(predictor, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    """The service around one loaded :class:`~inference.predictor.Predictor`."""
    from data.articles import ArticleInput

    from .html import render_article, render_page
    from .scoring import _mark_duplicates, as_article_inputs, score_batch

    schema = predictor.schema
    lock = threading.Lock()
    model_name = Path(predictor.run_dir).name if predictor.run_dir else None
    app = FastAPI(title="stanceframe", version="1",
                  description="Sentence-level stance and framing labels for Sahel news. "
                              f"Request bodies are limited to {max_body_bytes} bytes (413 beyond); "
                              "invalid bodies get 422 with a message naming the field.")
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    page = render_page(schema, max_body_bytes, model_name or "")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        message = "; ".join(
            f"body: invalid JSON at character {e['loc'][-1]} ({(e.get('ctx') or {}).get('error', 'decode error')})"
            if e.get("type") == "json_invalid" else f"{_field_path(e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in errors[:10])
        return JSONResponse({"message": message, "detail": jsonable_encoder(errors)}, status_code=422)

    def score(articles: list[dict], explain: bool):
        inputs = list(_mark_duplicates(as_article_inputs(articles), {}))
        inputs = [ArticleInput(a.id, a.text, f"request item {n}", a.meta, a.error) for n, a in enumerate(inputs)]
        with lock:
            return score_batch(predictor, inputs, explain=explain)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/health", response_model=Health)
    def health() -> Health:
        return Health(status="ok", kind=predictor.kind, model=model_name, targets=list(schema.targets),
                      stance_values=list(schema.stance_values), frames=list(schema.frames), max_body_bytes=max_body_bytes)

    @app.post("/predict", response_model=PredictResponse, response_model_exclude_none=True)
    def predict(req: PredictRequest) -> dict:
        """Label sentences (already split); one prediction per sentence, in order."""
        with lock:
            preds = predictor.predict(req.sentences, explain=req.explain)
        return {"predictions": [{"text": t, **p.to_json()} for t, p in zip(req.sentences, preds)]}

    @app.post("/score", response_model=ScoreResponse)
    def score_articles(req: ScoreRequest) -> dict:
        """Split and label articles: the same article and sentence rows as ``stanceframe score``
        (``origin`` is ``request item N``; a repeated id is an error row)."""
        items = [a.model_dump(exclude_none=True) for a in req.articles]
        results = score(items, req.explain)
        return {"articles": [r.article for r in results], "sentences": [s for r in results for s in r.sentences]}

    @app.post("/render", response_model=RenderResponse)
    def render(req: RenderRequest) -> dict:
        """One article labelled with explanations, as the highlighted HTML of the report (the page uses it)."""
        item = {"id": req.id, "text": req.text, **({"lang": req.lang} if req.lang else {}),
                **({"title": req.title} if req.title else {})}
        result = score([item], True)[0]
        return {"html": render_article(result.article, result.sentences, schema, req.text),
                "article": result.article, "sentences": result.sentences}

    return app


def serve(run, host: str = "127.0.0.1", port: int = 8000, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
          log_level: str = "info") -> None:
    """Serve a run folder (loaded once, here) or a loaded Predictor until interrupted."""
    import uvicorn

    from .predictor import Predictor

    predictor = run if isinstance(run, Predictor) else Predictor.load(run)
    app = create_app(predictor, max_body_bytes=max_body_bytes)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
