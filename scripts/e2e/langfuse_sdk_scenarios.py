"""Langfuse Python SDK 4.x traffic for the end-to-end tests (run with .e2e-cache/venv-current).

Uses the SDK as its documentation shows, against whatever LANGFUSE_HOST points at (the bridge
under test): an `@observe` function (the trace's root span) that calls an
`@observe(as_type="generation")` function and opens a second generation with
`start_as_current_observation`, inside `propagate_attributes` (trace name, user, session, tags,
metadata); then scores the trace and the root span (the SDK batches these as score-create
ingestion events) and the second generation through the REST API (`api.scores.create`:
POST /api/public/scores). At the end it flushes the client and prints one line

    E2E_RESULT {"run": ..., "trace": {...}, "observations": {...}, "scores": [...], "otlp": [...], "errors": [...]}

where `otlp` records every span the SDK handed to its OTLP exporter (with ids and attributes)
and the exporter's verdict, so the test can look the trace up in Jaeger and compare.

Usage:  python langfuse_sdk_scenarios.py [--run RUN_ID]
Env:    LANGFUSE_HOST, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY, LANGFUSE_TRACING_ENVIRONMENT,
        LANGFUSE_RELEASE (read by the SDK itself).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
import uuid
from importlib.metadata import version

from langfuse import get_client, observe, propagate_attributes
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

from otlp_recorder import record_exports  # scripts/e2e/otlp_recorder.py

OTLP: list[dict] = []
record_exports(OTLPSpanExporter, OTLP)

MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


def build(run: str) -> dict:
    langfuse = get_client()
    ids: dict = {}

    @observe(as_type="generation", name="answer")
    def answer(messages: list) -> str:
        langfuse.update_current_generation(
            model="gpt-4o",
            model_parameters={"temperature": 0.2, "max_tokens": 50},
            usage_details={"input": 12, "output": 3},
            cost_details={"total": 0.000075},
            metadata={"step": "answer"},
        )
        ids["answer"] = langfuse.get_current_observation_id()
        return "Paris."

    @observe(name="pipeline")
    def pipeline(question: str) -> str:
        ids["pipeline"] = langfuse.get_current_observation_id()
        ids["traceId"] = langfuse.get_current_trace_id()
        with propagate_attributes(
            trace_name=f"e2e-sdk-{run}",
            user_id=f"user-{run}",
            session_id=f"session-{run}",
            tags=["e2e", "python-sdk"],
            metadata={"team": "observability"},
        ):
            out = answer(MESSAGES)
            with langfuse.start_as_current_observation(
                as_type="generation",
                name="check",
                model="gpt-4o-mini",
                input=[{"role": "user", "content": f"Is '{out}' right?"}],
            ) as gen:
                ids["check"] = gen.id
                gen.update(
                    output={"role": "assistant", "content": "Yes."},
                    usage_details={"input": 8, "output": 1},
                    level="WARNING",
                    status_message="slow answer",
                )
        langfuse.score_current_trace(name="quality", value=0.9, comment="good")
        langfuse.score_current_span(name="verdict", value="correct", data_type="CATEGORICAL")
        return out

    pipeline("What is the capital of France?")
    langfuse.flush()
    api_score = langfuse.api.scores.create(
        trace_id=ids["traceId"], observation_id=ids["check"], name="api-check", value=1.0, comment="via POST /api/public/scores"
    )
    return {
        "trace": {
            "traceId": ids["traceId"],
            "traceName": f"e2e-sdk-{run}",
            "userId": f"user-{run}",
            "sessionId": f"session-{run}",
            "tags": ["e2e", "python-sdk"],
        },
        "observations": {
            "pipeline": {"spanId": ids["pipeline"], "type": "span"},
            "answer": {
                "spanId": ids["answer"],
                "type": "generation",
                "model": "gpt-4o",
                "usage": {"input": 12, "output": 3},
                "cost": {"total": 0.000075},
            },
            "check": {"spanId": ids["check"], "type": "generation", "model": "gpt-4o-mini", "usage": {"input": 8, "output": 1}},
        },
        "scores": [
            {"name": "quality", "value": 0.9},
            {"name": "verdict", "value": "correct", "observation": "pipeline"},
            {"name": "api-check", "value": 1.0, "observation": "check", "id": api_score.id},
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default=uuid.uuid4().hex[:12])
    args = parser.parse_args()
    errors: list = []
    out: dict = {"run": args.run}
    try:
        out.update(build(args.run))
    except Exception:  # noqa: BLE001
        errors.append({"scenario": "sdk", "error": traceback.format_exc()})
    out["otlp"] = OTLP
    out["errors"] = errors
    out["versions"] = {"langfuse": version("langfuse")}
    sys.stdout.write("E2E_RESULT " + json.dumps(out, default=str) + "\n")
    sys.stdout.flush()
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
