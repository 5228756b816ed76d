"""LiteLLM -> Langfuse traffic for the end-to-end tests, for both LiteLLM generations:

- LiteLLM 1.103.11 + Langfuse SDK v2 (.e2e-cache/venv): the `langfuse` callback POSTs
  ingestion batches to /api/public/ingestion;
- the current LiteLLM + Langfuse SDK 4.x (.e2e-cache/venv-current): the `langfuse` and
  `langfuse_otel` callbacks send OTLP/protobuf to /api/public/otel/v1/traces.

Runs LiteLLM exactly as a user would, against whatever LANGFUSE_HOST points at (the bridge
under test), with `mock_response=` so that no model provider is ever contacted. The scenarios
are the same for both generations (the comparison test relies on that). Every scenario makes
one or more LiteLLM calls; at the end the script waits for LiteLLM's logging threads, flushes
the client and prints one line

    E2E_RESULT {"run": ..., "scenarios": {...}, "ingestion": [...], "otlp": [...], "errors": [...]}

where `scenarios` describes what each scenario sent (ids, names, models) so the test can look
the traces up in Jaeger, `ingestion` records every POST /api/public/ingestion the v2 SDK made
(status code, event types, per-event errors), and `otlp` every OTLP export of the current
LiteLLM (the spans handed to the exporter, with their ids and attributes, and the outcome).

Usage:  python litellm_scenarios.py [--run RUN_ID] [--only name,name] [--callback langfuse|langfuse_otel]
Env:    LANGFUSE_HOST, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY (read by LiteLLM itself).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import traceback
import uuid

# No network: use LiteLLM's bundled model price map instead of downloading it at import.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# LiteLLM parses this with int(); 1 s is also LiteLLM's default. The script flushes explicitly
# at the end anyway.
os.environ.setdefault("LANGFUSE_FLUSH_INTERVAL", "1")

from importlib.metadata import version as _dist_version  # noqa: E402

import litellm  # noqa: E402  (after the env setup above)
from litellm.litellm_core_utils.thread_pool_executor import executor  # noqa: E402

# Langfuse SDK v2 (LiteLLM <= 1.103) or 4.x (LiteLLM >= 1.104, OTLP).
LANGFUSE_MAJOR = int(_dist_version("langfuse").split(".")[0])

# --------------------------------------------------------------------------------------------
# Record what the client sends and what the bridge answers.
# --------------------------------------------------------------------------------------------
INGESTION: list[dict] = []
OTLP: list[dict] = []
_record_lock = threading.Lock()

_SUMMARY_FIELDS = (
    "id", "traceId", "name", "parentObservationId", "level", "statusMessage", "model",
    "usage", "usageDetails", "startTime", "endTime", "completionStartTime", "timestamp",
    "userId", "sessionId", "tags",
)


def _summarize(event: dict) -> dict:
    """The identifying fields of one ingestion event (the test derives its expectations,
    e.g. token counts, cost and time to first chunk, from what was actually sent)."""
    body = event.get("body") or {}
    out = {"type": event.get("type"), "eventId": event.get("id")}
    for key in _SUMMARY_FIELDS:
        if key in body:
            out[key] = body[key]
    return out


if LANGFUSE_MAJOR < 3:
    import langfuse.request
    from langfuse.serializer import EventSerializer as JsonEncoder

    _original_batch_post = langfuse.request.LangfuseClient.batch_post

    def _recording_batch_post(self, **kwargs):
        """Record what the Langfuse SDK v2 POSTs and what the bridge answers."""
        batch = kwargs.get("batch") or []
        entry: dict = {
            "events": [_summarize(e) for e in batch if isinstance(e, dict)],
            "metadata": kwargs.get("metadata"),
            "sentAt": round(time.time(), 6),
        }
        try:
            res = _original_batch_post(self, **kwargs)
            entry["status"] = res.status_code
            try:
                body = res.json()
                entry["errors"] = body.get("errors", []) if isinstance(body, dict) else None
                entry["successes"] = len(body.get("successes", [])) if isinstance(body, dict) else None
            except Exception:  # noqa: BLE001
                entry["errors"] = None
                entry["body"] = res.text[:500]
            return res
        except Exception as exc:  # noqa: BLE001
            entry["exception"] = repr(exc)
            raise
        finally:
            entry["doneAt"] = round(time.time(), 6)
            with _record_lock:
                INGESTION.append(entry)

    langfuse.request.LangfuseClient.batch_post = _recording_batch_post
else:
    # The `langfuse` callback exports through litellm's own LangfuseSpanExporter (inside an
    # _ExportLedger); `langfuse_otel` through the OTel SDK's OTLP/HTTP exporter.
    from litellm.integrations.langfuse import langfuse_sdk
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from otlp_recorder import record_exports  # scripts/e2e/otlp_recorder.py

    record_exports(langfuse_sdk.LangfuseSpanExporter, OTLP)
    record_exports(OTLPSpanExporter, OTLP)

    class JsonEncoder(json.JSONEncoder):
        def default(self, o):  # anything json cannot encode in a scenario result
            return str(o)


MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


# --------------------------------------------------------------------------------------------
# Scenarios. Each returns a dict that the test uses to find and check the trace.
# --------------------------------------------------------------------------------------------
def scenario_plain(run: str) -> dict:
    """One chat call, no Langfuse metadata: the trace id is LiteLLM's call id (a UUID with
    dashes), known only from what was sent; main() fills in traceId after the flush."""
    resp = litellm.completion(
        model="gpt-4o",
        messages=MESSAGES,
        mock_response="Paris.",
        temperature=0.2,
        max_tokens=50,
    )
    return {
        "traceId": None,
        "traceName": "litellm-completion",
        "model": "gpt-4o",
        "responseId": resp.id,
        "output": "Paris.",
        "usage": {
            "input": resp.usage.prompt_tokens,
            "output": resp.usage.completion_tokens,
        },
    }


def scenario_streaming(run: str) -> dict:
    """A streamed chat call: LiteLLM logs one generation after the stream ends, with
    completionStartTime = time of the first chunk."""
    trace_id = uuid.uuid4().hex  # 32-hex: used as the OTel trace id as is
    chunks = []
    stream = litellm.completion(
        model="gpt-4o-mini",
        messages=MESSAGES,
        mock_response="Paris is the capital of France.",
        stream=True,
        metadata={"trace_id": trace_id, "trace_name": f"e2e-streaming-{run}"},
    )
    for chunk in stream:
        delta = chunk.choices[0].delta.content if chunk.choices else None
        if delta:
            chunks.append(delta)
            time.sleep(0.01)  # make the first chunk measurably earlier than the end
    return {
        "traceId": trace_id,
        "traceName": f"e2e-streaming-{run}",
        "model": "gpt-4o-mini",
        "output": "".join(chunks),
        "chunks": len(chunks),
    }


def scenario_tools(run: str) -> dict:
    """A chat call whose response asks for a tool call."""
    trace_id = f"e2e-tools-{run}"
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    tool_call = {
        "id": "call_e2e_weather_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
    }
    litellm.completion(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        tools=tools,
        mock_response="",
        mock_tool_calls=[tool_call],
        metadata={"trace_id": trace_id, "trace_name": f"e2e-tools-{run}"},
    )
    return {
        "traceId": trace_id,
        "traceName": f"e2e-tools-{run}",
        "model": "gpt-4o",
        "toolCall": {"id": tool_call["id"], "name": "get_weather", "arguments": tool_call["function"]["arguments"]},
    }


def scenario_failure(run: str) -> dict:
    """A call that fails: LiteLLM's failure callback logs an ERROR generation."""
    trace_id = f"e2e-failure-{run}"
    message = f"e2e simulated provider outage {run}"
    error_text = None
    try:
        litellm.completion(
            model="gpt-4o-mini",
            messages=MESSAGES,
            mock_response=Exception(message),
            metadata={"trace_id": trace_id, "trace_name": f"e2e-failure-{run}"},
        )
    except Exception as exc:  # noqa: BLE001 - expected
        error_text = str(exc)
    if error_text is None:
        raise RuntimeError("the failure scenario did not fail")
    return {
        "traceId": trace_id,
        "traceName": f"e2e-failure-{run}",
        "model": "gpt-4o-mini",
        "message": message,
        "errorText": error_text,
        "errorClass": None,
    }


def scenario_embedding(run: str) -> dict:
    """An embedding call (mocked vector)."""
    trace_id = f"e2e-embedding-{run}"
    litellm.embedding(
        model="text-embedding-3-small",
        input=["The quick brown fox"],
        mock_response=[0.1, 0.2, 0.3, 0.4],
        metadata={"trace_id": trace_id, "trace_name": f"e2e-embedding-{run}"},
    )
    return {"traceId": trace_id, "traceName": f"e2e-embedding-{run}", "model": "text-embedding-3-small"}


def scenario_metadata(run: str) -> dict:
    """LiteLLM's Langfuse metadata controls: trace name/id/user/session/tags/metadata,
    generation name and id; then a second call continuing the trace (existing_trace_id)
    whose generation is nested under the first one (parent_observation_id)."""
    trace_id = f"e2e-metadata-{run}"
    parent_generation_id = f"e2e-parent-gen-{run}"
    common = {
        "trace_id": trace_id,
        "trace_name": f"e2e-metadata-{run}",
        "trace_user_id": f"user-{run}",
        "session_id": f"session-{run}",
        "tags": ["e2e", "metadata-controls"],
        "trace_metadata": {"team": "observability", "run": run},
    }
    litellm.completion(
        model="gpt-4o",
        messages=MESSAGES,
        mock_response="Paris.",
        metadata={**common, "generation_name": "planner", "generation_id": parent_generation_id},
    )
    litellm.completion(
        model="gpt-4o",
        messages=[{"role": "user", "content": "And of Italy?"}],
        mock_response="Rome.",
        metadata={
            "existing_trace_id": trace_id,
            "generation_name": "answer",
            "parent_observation_id": parent_generation_id,
        },
    )
    return {
        "traceId": trace_id,
        "traceName": common["trace_name"],
        "userId": common["trace_user_id"],
        "sessionId": common["session_id"],
        "tags": common["tags"],
        "traceMetadata": common["trace_metadata"],
        "model": "gpt-4o",
        "parentGenerationId": parent_generation_id,
        "parentGenerationName": "planner",
        "childGenerationName": "answer",
    }


def scenario_multi(run: str) -> dict:
    """Several calls logged into one trace (same trace_id)."""
    trace_id = f"e2e-multi-{run}"
    names = ["step-1", "step-2", "step-3"]
    for i, name in enumerate(names):
        litellm.completion(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"Step {i + 1}?"}],
            mock_response=f"Done {i + 1}.",
            metadata={"trace_id": trace_id, "trace_name": f"e2e-multi-{run}", "generation_name": name},
        )
    return {"traceId": trace_id, "traceName": f"e2e-multi-{run}", "model": "gpt-4o-mini", "generationNames": names}


SCENARIOS = {
    "plain": scenario_plain,
    "streaming": scenario_streaming,
    "tools": scenario_tools,
    "failure": scenario_failure,
    "embedding": scenario_embedding,
    "metadata": scenario_metadata,
    "multi": scenario_multi,
}


def _flush_clients(errors: list) -> None:
    """Flush every client LiteLLM created, found through the garbage collector so the script
    does not depend on where a given LiteLLM version keeps them: v2's Langfuse clients (the
    global logger's and per-request ones), or, for the current LiteLLM, every OTel
    TracerProvider (its own export channels and langfuse_otel's). Each flush blocks until its
    queue has been sent."""
    import gc

    if LANGFUSE_MAJOR < 3:
        from langfuse import Langfuse

        clients = [o for o in gc.get_objects() if isinstance(o, Langfuse)]
    else:
        from opentelemetry.sdk.trace import TracerProvider

        clients = [o for o in gc.get_objects() if isinstance(o, TracerProvider)]
    if not clients:
        errors.append({"scenario": "*", "error": "LiteLLM created no Langfuse client / tracer provider"})
    for client in clients:
        if LANGFUSE_MAJOR < 3:
            client.flush()
        elif not client.force_flush(30_000):
            errors.append({"scenario": "*", "error": f"flush of {client!r} timed out"})


def _find_plain_trace(plain: dict, errors: list) -> None:
    """The plain scenario's trace id is chosen by LiteLLM: find the generation of the call's
    response id in what was sent."""
    if LANGFUSE_MAJOR < 3:
        # v2: LiteLLM's generation id is "time-..._" + response.id.
        suffix = "_" + plain["responseId"]
        for post in INGESTION:
            for ev in post["events"]:
                if ev.get("type") == "generation-create" and str(ev.get("id", "")).endswith(suffix):
                    plain["traceId"] = ev.get("traceId")
                    plain["generationId"] = ev.get("id")
    else:
        # current: the span carries the response id (langfuse: metadata.response_id,
        # langfuse_otel: llm.response.id); its OTel trace id is the trace id.
        for export in OTLP:
            for span in export["spans"]:
                attrs = span["attributes"]
                if plain["responseId"] in (attrs.get("langfuse.observation.metadata.response_id"), attrs.get("llm.response.id")):
                    plain["traceId"] = span["traceId"]
                    plain["generationId"] = span["spanId"]
    if plain["traceId"] is None:
        errors.append({"scenario": "plain", "error": "generation for the plain call was not sent"})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default=uuid.uuid4().hex[:12])
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--callback", default="langfuse", choices=["langfuse", "langfuse_otel"])
    args = parser.parse_args()
    if args.callback == "langfuse_otel" and LANGFUSE_MAJOR < 3:
        parser.error("langfuse_otel needs the current LiteLLM (venv-current)")
    litellm.success_callback = [args.callback]
    litellm.failure_callback = [args.callback]

    selected = [s for s in args.only.split(",") if s] or list(SCENARIOS)
    results: dict = {}
    errors: list = []
    started = time.time()
    for name in selected:
        t0 = time.time()
        try:
            results[name] = SCENARIOS[name](args.run)
            results[name]["seconds"] = round(time.time() - t0, 3)
        except Exception:  # noqa: BLE001
            errors.append({"scenario": name, "error": traceback.format_exc()})

    # Deterministic flush: (1) wait for LiteLLM's logging thread pool, where the sync success
    # and failure handlers (which enqueue the Langfuse events / end the spans) run; (2) flush
    # every client.
    executor.shutdown(wait=True)
    _flush_clients(errors)
    plain = results.get("plain")
    if plain is not None:
        _find_plain_trace(plain, errors)

    out = {
        "run": args.run,
        "scenarios": results,
        "callback": args.callback,
        "ingestion": INGESTION,
        "otlp": OTLP,
        "errors": errors,
        "seconds": round(time.time() - started, 3),
        "versions": {"litellm": _version("litellm"), "langfuse": _version("langfuse")},
    }
    sys.stdout.write("E2E_RESULT " + json.dumps(out, cls=JsonEncoder) + "\n")
    sys.stdout.flush()
    return 0 if not errors else 1


def _version(dist: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    sys.exit(main())
