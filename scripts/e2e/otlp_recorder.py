"""Record the spans a current Langfuse client (LiteLLM >= 1.104, Langfuse SDK >= 3) hands to
its OTLP exporter, for the end-to-end scripts in this folder: each export becomes a dict with
the spans (ids in hex, attributes, resource) and the exporter's verdict, appended to a list the
script prints with its result. Importing it needs the OpenTelemetry SDK, so only the current
venv imports it."""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()


def summarize_span(span) -> dict:
    """One OTel ReadableSpan as the exporter received it."""
    ctx = span.get_span_context()
    parent = span.parent
    return {
        "name": span.name,
        "traceId": format(ctx.trace_id, "032x"),
        "spanId": format(ctx.span_id, "016x"),
        "parentSpanId": format(parent.span_id, "016x") if parent is not None else "",
        "kind": span.kind.name,
        "startTimeUnixNano": span.start_time,
        "endTimeUnixNano": span.end_time,
        "status": {"code": span.status.status_code.name, "message": span.status.description},
        "attributes": {k: (list(v) if isinstance(v, tuple) else v) for k, v in (span.attributes or {}).items()},
        "resource": dict(span.resource.attributes) if span.resource is not None else {},
    }


def record_exports(cls, sink: list) -> None:
    """Wrap `cls.export(spans)` so that every export is appended to `sink` with its outcome."""
    original = cls.export

    def export(self, spans):
        entry: dict = {"exporter": cls.__name__, "spans": [summarize_span(x) for x in spans], "sentAt": round(time.time(), 6)}
        try:
            res = original(self, spans)
            entry["result"] = res.name
            return res
        except Exception as exc:  # noqa: BLE001
            entry["exception"] = repr(exc)
            raise
        finally:
            entry["doneAt"] = round(time.time(), 6)
            with _lock:
                sink.append(entry)

    cls.export = export
