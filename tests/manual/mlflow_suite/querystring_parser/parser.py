"""`parse("a=1&b[0]=x&b[1]=y&c[d]=z", normalized=True)` -> {"a": "1", "b": ["x", "y"], "c": {"d": "z"}}.

Keys are split at `[...]` segments into nested dicts; with `normalized=True` a dict whose keys are all
integers becomes a list ordered by key. Values are strings (numbers that look like integers stay
strings; MLflow's protobuf parsing converts them).
"""
import re
from urllib.parse import unquote_plus

_SEGMENT = re.compile(r"\[([^\]]*)\]")


def _split_key(key):
    head = key.split("[", 1)[0]
    rest = key[len(head):]
    parts = [head]
    parts.extend(_SEGMENT.findall(rest))
    return parts


def _insert(target, parts, value):
    node = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part.isdigit():
            part = int(part)
        if last:
            if part in node and not isinstance(node[part], dict):
                existing = node[part]
                node[part] = (existing if isinstance(existing, list) else [existing]) + [value]
            else:
                node[part] = value
        else:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child


def _normalize(node):
    if not isinstance(node, dict):
        return node
    out = {k: _normalize(v) for k, v in node.items()}
    if out and all(isinstance(k, int) for k in out):
        return [out[k] for k in sorted(out)]
    return out


def parse(query_string, unquote=True, normalized=False, encoding="utf-8"):
    if isinstance(query_string, bytes):
        query_string = query_string.decode(encoding)
    result = {}
    for pair in query_string.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if unquote:
            key, value = unquote_plus(key), unquote_plus(value)
        _insert(result, _split_key(key), value)
    return _normalize(result) if normalized else result
