"""``/api/docs``: the API reference as one self-hosted HTML page, rendered from the OpenAPI
document (no Swagger UI, no script, nothing from another host).

FastAPI's Swagger UI loads its scripts and styles from a CDN and its icon from another host;
a server that must work without the internet (and must not tell a third party who reads its
docs) cannot use it. This page lists every operation with its parameters (type, allowed
range, default), its request body and its answers; ``/api/openapi.json`` is the
machine-readable twin (docs/server.md, "API reference").

>>> page = render_api_docs({"info": {"title": "t", "version": "1"}, "paths": {
...     "/api/v1/x": {"get": {"summary": "X", "parameters": [{"name": "top", "in": "query",
...     "schema": {"type": "integer", "minimum": 1, "maximum": 9}}], "responses": {}}}}})
>>> "<code>top</code>" in page and "1..9" in page and "<script" not in page
True
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["render_api_docs"]


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        found = spec.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
        return found if isinstance(found, dict) else {}
    return schema


def describe_schema(schema: dict[str, Any], spec: dict[str, Any] | None = None) -> str:
    """A JSON Schema in a few words: the type, the allowed values or range, list bounds.

    >>> describe_schema({"anyOf": [{"type": "integer", "minimum": 0, "maximum": 50},
    ...                            {"type": "null"}]})
    'integer, 0..50'
    >>> describe_schema({"type": "array", "maxItems": 20, "items": {"type": "string",
    ...                  "maxLength": 500}})
    'list of string (at most 500 characters), at most 20'
    """
    spec = spec or {}
    schema = _resolve(schema, spec)
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    if len(options) != 1:
        return " or ".join(describe_schema(s, spec) for s in options) or "any"
    s = _resolve(options[0], spec)
    if "enum" in s:
        return " | ".join(str(v) for v in s["enum"])
    if "const" in s:
        return str(s["const"])
    kind = str(s.get("type", "object"))
    if kind == "array":
        text = f"list of {describe_schema(s.get('items', {}), spec)}"
        return text + (f", at most {s['maxItems']}" if "maxItems" in s else "")
    if "minimum" in s or "maximum" in s:
        return f"{kind}, {s.get('minimum', '')}..{s.get('maximum', '')}"
    if kind == "string" and "maxLength" in s:
        return f"string (at most {s['maxLength']} characters)"
    return kind


def _parameters(op: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    params = op.get("parameters") or []
    if not params:
        return []
    rows = [
        "<table class='wide'><tr><th>parameter</th><th>in</th><th>type</th>"
        "<th>default</th><th>description</th></tr>"
    ]
    for p in params:
        schema = p.get("schema", {})
        default = schema.get("default")
        shown = "required" if p.get("required") else ("-" if default is None else str(default))
        rows.append(
            f"<tr><td><code>{escape(str(p.get('name', '')))}</code></td>"
            f"<td>{escape(str(p.get('in', '')))}</td>"
            f"<td>{escape(describe_schema(schema, spec))}</td><td>{escape(shown)}</td>"
            f"<td>{escape(str(p.get('description', schema.get('description', ''))))}</td></tr>"
        )
    rows.append("</table>")
    return rows


def _body(op: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    content = (op.get("requestBody") or {}).get("content") or {}
    out = []
    for media, item in content.items():
        schema = _resolve(item.get("schema", {}), spec)
        props = schema.get("properties") or {}
        fields = ", ".join(
            f"{name}: {describe_schema(sub, spec)}" for name, sub in props.items()
        ) or describe_schema(schema, spec)
        out.append(f"<p>Body ({escape(media)}): {escape(fields)}</p>")
    return out


def _responses(op: dict[str, Any]) -> list[str]:
    items = [
        f"<li><code>{escape(code)}</code> {escape(str(r.get('description', '')))}</li>"
        for code, r in sorted((op.get("responses") or {}).items())
    ]
    return ["<ul class='responses'>", *items, "</ul>"] if items else []


def render_api_docs(spec: dict[str, Any]) -> str:
    """The reference page of the OpenAPI document ``spec`` (HTML, escaped, no script)."""
    info = spec.get("info", {})
    title = f"{info.get('title', 'API')} {info.get('version', '')} API".strip()
    parts = [
        "<!doctype html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(title)}</title>",
        "<link rel='stylesheet' href='/static/kundresa.css'>",
        "<link rel='icon' href='/static/favicon.svg' type='image/svg+xml'>",
        "<link rel='alternate' type='application/json' href='/api/openapi.json'>",
        "</head><body data-page='api-docs'><main>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(str(info.get('description', '')))}</p>",
        "<p class='twin'>OpenAPI: <a href='/api/openapi.json'>/api/openapi.json</a></p>",
    ]
    toc = ["<ul class='toc'>"]
    body: list[str] = []
    for n, (path, methods) in enumerate(sorted(spec.get("paths", {}).items())):
        for method, op in methods.items():
            anchor = f"op-{n}-{escape(method)}"
            label = f"{method.upper()} {path}"
            toc.append(
                f"<li><a href='#{anchor}'><code>{escape(label)}</code></a> "
                f"{escape(str(op.get('summary', '')))}</li>"
            )
            body += [
                f"<section id='{anchor}'><h2><code>{escape(label)}</code></h2>",
                f"<p><strong>{escape(str(op.get('summary', '')))}</strong></p>",
                f"<p>{escape(str(op.get('description', '')))}</p>",
                *_parameters(op, spec),
                *_body(op, spec),
                *_responses(op),
                "</section>",
            ]
    toc.append("</ul>")
    return "\n".join([*parts, *toc, *body, "</main></body></html>"]) + "\n"
