"""LiteLLM -> Langfuse (SDK v2) traffic for the end-to-end tests.

Runs LiteLLM exactly as a user would with the `langfuse` callback, against whatever
LANGFUSE_HOST points at (the bridge under test), with `mock_response=` so that no model
provider is ever contacted. Every scenario makes one or more LiteLLM calls; at the end the
script waits for LiteLLM's logging threads, flushes the Langfuse client and prints one line

    E2E_RESULT {"run": ..., "scenarios": {...}, "ingestion": [...], "errors": [...]}

where `scenarios` describes what each scenario sent (ids, names, models) so the test can look
the traces up in Jaeger, and `ingestion` records every POST /api/public/ingestion the SDK made
(status code, event types, per-event errors) so the test can check the bridge accepted them.

Usage:  python litellm_scenarios.py [--run RUN_ID] [--only name,name]
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

import langfuse.request  # noqa: E402  (after the env setup above)
from langfuse.serializer import EventSerializer  # noqa: E402
import litellm  # noqa: E402
from litellm.litellm_core_utils.thread_pool_executor import executor  # noqa: E402

# --------------------------------------------------------------------------------------------
# Record what the Langfuse SDK sends and what the bridge answers.
# --------------------------------------------------------------------------------------------
INGESTION: list[dict] = []
_ingestion_lock = threading.Lock()
_original_batch_post = langfuse.request.LangfuseClient.batch_post


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


def _recording_batch_post(self, **kwargs):
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
        with _ingestion_lock:
            INGESTION.append(entry)


langfuse.request.LangfuseClient.batch_post = _recording_batch_post

litellm.success_callback = ["langfuse"]
litellm.failure_callback = ["langfuse"]

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


def _langfuse_clients() -> list:
    """Every Langfuse SDK client LiteLLM created: the global logger's and any per-request
    (dynamic) ones LiteLLM keeps in its caches. Found through the garbage collector so the
    script does not depend on where a given LiteLLM version stores them."""
    import gc

    from langfuse import Langfuse

    return [o for o in gc.get_objects() if isinstance(o, Langfuse)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default=uuid.uuid4().hex[:12])
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args()

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
    # and failure handlers (which enqueue the Langfuse events) run; (2) flush every Langfuse
    # client, which blocks until its queue has been sent.
    executor.shutdown(wait=True)
    clients = _langfuse_clients()
    if not clients:
        errors.append({"scenario": "*", "error": "no Langfuse client was created by LiteLLM"})
    for client in clients:
        client.flush()

    # The plain scenario's trace id is LiteLLM's call id: find the generation whose id ends
    # with the response id (LiteLLM's generation id is "time-..._" + response.id).
    plain = results.get("plain")
    if plain is not None:
        suffix = "_" + plain["responseId"]
        for post in INGESTION:
            for ev in post["events"]:
                if ev.get("type") == "generation-create" and str(ev.get("id", "")).endswith(suffix):
                    plain["traceId"] = ev.get("traceId")
                    plain["generationId"] = ev.get("id")
        if plain["traceId"] is None:
            errors.append({"scenario": "plain", "error": "generation for the plain call was not sent"})

    out = {
        "run": args.run,
        "scenarios": results,
        "ingestion": INGESTION,
        "errors": errors,
        "seconds": round(time.time() - started, 3),
        "versions": {"litellm": _version("litellm"), "langfuse": _version("langfuse")},
    }
    sys.stdout.write("E2E_RESULT " + json.dumps(out, cls=EventSerializer) + "\n")
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
