"""A loopback stand-in for OpenSearch (real OpenSearch is not reachable here), and tests that it rejects
what OpenSearch rejects.

It speaks HTTP on 127.0.0.1 and checks, against OpenSearch's documented API:
* every request's SigV4 signature (recomputed from the canonical request with the known secret, so a wrong
  key, region, service or a tampered body fails with 403 as on AWS);
* index creation: ``settings.index.knn``, the ``knn_vector`` mapping (dimension, ``method`` name / engine /
  space_type / parameters as the k-NN plugin allows them); Serverless (``aoss``) rejects shard settings;
* ``_bulk``: NDJSON, one action per header line (``index``/``create``/``delete`` with ``_index``), a source
  line after ``index``; Serverless vector collections reject custom ``_id``s on ``index``;
* ``_search``: only documented keys; queries ``knn`` (vector length = the mapping's dimension, ``k``,
  optional ``filter``), ``match``, ``multi_match``, ``bool``, ``term``, ``terms``, ``prefix``,
  ``match_all``, and ``hybrid`` (top level only, needing an existing ``search_pipeline`` whose
  ``normalization-processor`` is well formed); ``terms`` aggregations;
and it really executes them (brute-force cosine scored as Lucene does, ``(1 + cos) / 2``; a BM25 scorer),
so the adapter's results can be checked end to end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

ACCESS_KEY = "AKIDSTANDIN"
SECRET_KEY = "standin-secret"
REGION = "eu-west-1"
ENGINE_SPACES = {
    "lucene": {"l2", "cosinesimil", "innerproduct"},
    "faiss": {"l2", "innerproduct", "cosinesimil"},
    "nmslib": {"l2", "cosinesimil", "innerproduct", "l1", "linf"},
}
HNSW_PARAMETERS = {"m", "ef_construction", "ef_search", "encoder"}
FIELD_TYPES = {"keyword", "text", "object", "knn_vector", "integer", "long", "float", "boolean", "date"}
SEARCH_KEYS = {"size", "from", "query", "_source", "aggs", "aggregations", "sort", "track_total_hits"}
LEAF_QUERIES = {"match", "multi_match", "term", "terms", "prefix", "match_all", "knn", "bool", "hybrid"}


class BadRequest(Exception):
    def __init__(self, status: int, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.kind, self.reason = status, kind, reason


# -- SigV4 -------------------------------------------------------------------------------------------


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def verify_sigv4(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, service: str
) -> None:
    """Recompute the signature as AWS does (canonical request, string to sign, derived key)."""
    auth = headers.get("authorization", "")
    match = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
        auth,
    )
    if not match:
        raise BadRequest(403, "security_exception", "missing or malformed SigV4 Authorization header")
    access_key, day, region, signed_service, signed_headers, signature = match.groups()
    if access_key != ACCESS_KEY:
        raise BadRequest(403, "security_exception", "unknown access key")
    if region != REGION or signed_service != service:
        raise BadRequest(403, "security_exception", f"credential scope {region}/{signed_service} is wrong")
    amz_date = headers.get("x-amz-date", "")
    if not amz_date.startswith(day):
        raise BadRequest(403, "security_exception", "X-Amz-Date missing or not the credential's day")
    payload_hash = hashlib.sha256(body).hexdigest()
    if service == "aoss" and headers.get("x-amz-content-sha256") != payload_hash:
        raise BadRequest(403, "security_exception", "aoss needs x-amz-content-sha256 = SHA-256 of the body")
    names = signed_headers.split(";")
    if "host" not in names or "x-amz-date" not in names:
        raise BadRequest(403, "security_exception", "host and x-amz-date must be signed")
    canonical_headers = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in names)
    pairs = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in parse_qsl(query, keep_blank_values=True)
    )
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical_path = quote(quote(path, safe="/-_.~"), safe="/-_.~")
    canonical = "\n".join(
        [method, canonical_path, canonical_query, canonical_headers, signed_headers, payload_hash]
    )
    scope = f"{day}/{region}/{signed_service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _sign(
        _sign(_sign(_sign(f"AWS4{SECRET_KEY}".encode(), day), region), signed_service), "aws4_request"
    )
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise BadRequest(403, "security_exception", "The request signature we calculated does not match")


# -- validation --------------------------------------------------------------------------------------


def validate_index_body(body: dict[str, Any], *, serverless: bool) -> dict[str, Any]:
    unknown = set(body) - {"settings", "mappings", "aliases"}
    if unknown:
        raise BadRequest(400, "parse_exception", f"unknown key(s) {sorted(unknown)} in index body")
    index_settings = body.get("settings", {}).get("index", body.get("settings", {}))
    if index_settings.get("knn") is not True:
        raise BadRequest(
            400, "illegal_argument_exception", "knn_vector fields need settings.index.knn = true"
        )
    if serverless and ({"number_of_shards", "number_of_replicas"} & set(index_settings)):
        raise BadRequest(
            400, "illegal_argument_exception", "Serverless does not accept shard/replica settings"
        )
    mappings = body.get("mappings", {})
    for name, field in mappings.get("properties", {}).items():
        kind = field.get("type", "object")
        if kind not in FIELD_TYPES:
            raise BadRequest(400, "mapper_parsing_exception", f"no handler for type [{kind}] on [{name}]")
        if kind == "knn_vector":
            dimension = field.get("dimension")
            if not isinstance(dimension, int) or not 1 <= dimension <= 16000:
                raise BadRequest(400, "mapper_parsing_exception", f"[{name}] dimension must be 1..16000")
            method = field.get("method", {})
            if method.get("name") not in ("hnsw", "ivf"):
                raise BadRequest(400, "mapper_parsing_exception", f"unknown method [{method.get('name')}]")
            engine = method.get("engine", "faiss")
            space = method.get("space_type", "l2")
            if space not in ENGINE_SPACES.get(engine, set()):
                raise BadRequest(400, "mapper_parsing_exception", f"engine [{engine}] has no space [{space}]")
            bad = set(method.get("parameters", {})) - HNSW_PARAMETERS
            if bad or (engine == "lucene" and "ef_search" in method.get("parameters", {})):
                raise BadRequest(400, "mapper_parsing_exception", f"bad hnsw parameters {sorted(bad)}")
    return mappings


def validate_pipeline(body: dict[str, Any]) -> dict[str, Any]:
    processors = body.get("phase_results_processors")
    if not isinstance(processors, list) or not processors:
        raise BadRequest(400, "parse_exception", "a hybrid pipeline needs phase_results_processors")
    for processor in processors:
        normalization = processor.get("normalization-processor")
        if normalization is None:
            raise BadRequest(400, "parse_exception", f"unknown processor {list(processor)}")
        if normalization.get("normalization", {}).get("technique") not in ("min_max", "l2", "z_score"):
            raise BadRequest(400, "parse_exception", "normalization technique must be min_max, l2 or z_score")
        combination = normalization.get("combination", {})
        if combination.get("technique") not in ("arithmetic_mean", "geometric_mean", "harmonic_mean"):
            raise BadRequest(400, "parse_exception", "unknown combination technique")
        weights = combination.get("parameters", {}).get("weights")
        if weights is not None and abs(sum(weights) - 1.0) > 1e-6:
            raise BadRequest(400, "parse_exception", "combination weights must add up to 1.0")
    return body


def validate_query(query: Any, dimension: int, *, top: bool = False) -> None:
    if not isinstance(query, dict) or len(query) != 1:
        raise BadRequest(400, "parsing_exception", "a query is an object with exactly one query type")
    ((kind, value),) = query.items()
    if kind not in LEAF_QUERIES:
        raise BadRequest(400, "parsing_exception", f"unknown query [{kind}]")
    if kind == "knn":
        if not isinstance(value, dict) or len(value) != 1:
            raise BadRequest(400, "parsing_exception", "[knn] needs exactly one vector field")
        ((_, spec),) = value.items()
        unknown = set(spec) - {"vector", "k", "filter", "min_score", "max_distance", "method_parameters"}
        if unknown:
            raise BadRequest(400, "parsing_exception", f"[knn] unknown key(s) {sorted(unknown)}")
        vector = spec.get("vector")
        if not isinstance(vector, list) or len(vector) != dimension:
            raise BadRequest(
                400, "illegal_argument_exception", f"query vector must have {dimension} dimensions"
            )
        if not isinstance(spec.get("k"), int) or spec["k"] < 1:
            raise BadRequest(400, "illegal_argument_exception", "[knn] k must be a positive integer")
        if "filter" in spec:
            validate_query(spec["filter"], dimension)
    elif kind == "hybrid":
        if not top:
            raise BadRequest(400, "parsing_exception", "[hybrid] must be the top-level query")
        queries = value.get("queries")
        if not isinstance(queries, list) or not 1 <= len(queries) <= 5:
            raise BadRequest(400, "parsing_exception", "[hybrid] needs 1 to 5 queries")
        for sub in queries:
            validate_query(sub, dimension)
    elif kind == "bool":
        unknown = set(value) - {"must", "filter", "should", "must_not", "minimum_should_match"}
        if unknown:
            raise BadRequest(400, "parsing_exception", f"[bool] unknown key(s) {sorted(unknown)}")
        for clause in ("must", "filter", "should", "must_not"):
            for sub in (
                value.get(clause, [])
                if isinstance(value.get(clause), list)
                else [value.get(clause)]
                if clause in value
                else []
            ):
                validate_query(sub, dimension)
    elif kind == "multi_match":
        if not isinstance(value.get("query"), str) or not isinstance(value.get("fields"), list):
            raise BadRequest(400, "parsing_exception", "[multi_match] needs query (string) and fields (list)")
    elif kind in ("match", "term", "prefix", "terms"):
        if not isinstance(value, dict) or len(value) != 1:
            raise BadRequest(400, "parsing_exception", f"[{kind}] needs exactly one field")
        if kind == "terms" and not isinstance(next(iter(value.values())), list):
            raise BadRequest(400, "parsing_exception", "[terms] needs a list of values")


# -- execution ---------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _field(source: dict[str, Any], path: str) -> Any:
    value: Any = source
    for part in path.removesuffix(".raw").removesuffix(".keyword").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class Store:
    def __init__(self) -> None:
        self.indexes: dict[str, dict[str, Any]] = {}
        self.pipelines: dict[str, dict[str, Any]] = {}

    def matches(self, query: dict[str, Any], source: dict[str, Any]) -> bool:
        ((kind, value),) = query.items()
        if kind == "match_all":
            return True
        if kind == "term":
            ((path, wanted),) = value.items()
            wanted = wanted.get("value") if isinstance(wanted, dict) else wanted
            return _field(source, path) == wanted
        if kind == "terms":
            ((path, wanted),) = value.items()
            return _field(source, path) in wanted
        if kind == "prefix":
            ((path, wanted),) = value.items()
            return str(_field(source, path) or "").startswith(wanted)
        if kind == "bool":
            for clause in ("must", "filter"):
                if not all(self.matches(q, source) for q in value.get(clause, [])):
                    return False
            return not any(self.matches(q, source) for q in value.get("must_not", []))
        if kind in ("match", "multi_match"):
            return self.text_score(query, source, {}) > 0
        raise BadRequest(400, "parsing_exception", f"[{kind}] cannot filter")

    def text_score(
        self, query: dict[str, Any], source: dict[str, Any], df: dict[str, int], n: int = 1
    ) -> float:
        ((kind, value),) = query.items()
        if kind == "bool":
            if not all(self.matches(q, source) for q in value.get("filter", [])):
                return 0.0
            return sum(self.text_score(q, source, df, n) for q in value.get("must", []))
        if kind == "match":
            ((path, text),) = value.items()
            text = text.get("query") if isinstance(text, dict) else text
            fields = [path]
        elif kind == "multi_match":
            text, fields = value["query"], value["fields"]
        else:
            return 1.0 if self.matches(query, source) else 0.0
        best = 0.0
        for path in fields:
            tokens = Counter(_words(str(_field(source, path.split("^")[0]) or "")))
            score = 0.0
            for word in set(_words(text)):
                if tokens[word]:
                    idf = math.log(1 + (n - df.get(word, 0) + 0.5) / (df.get(word, 0) + 0.5))
                    score += idf * tokens[word] * 2.2 / (tokens[word] + 1.2)
            best = max(best, score)
        return best

    def run(self, index: dict[str, Any], query: dict[str, Any], size: int) -> list[tuple[str, float]]:
        docs = index["docs"]
        ((kind, value),) = query.items()
        if kind == "knn":
            ((path, spec),) = value.items()
            wanted = spec["vector"]
            norm = math.sqrt(sum(v * v for v in wanted)) or 1.0
            scored = []
            for _id, source in docs.items():
                if "filter" in spec and not self.matches(spec["filter"], source):
                    continue
                vector = source[path]
                cosine = sum(a * b for a, b in zip(wanted, vector, strict=True)) / (
                    norm * (math.sqrt(sum(v * v for v in vector)) or 1.0)
                )
                scored.append((_id, (1.0 + cosine) / 2.0))
            scored.sort(key=lambda item: -item[1])
            return scored[: min(size, spec["k"])]
        df: Counter[str] = Counter()
        for source in docs.values():
            df.update(set(_words(f"{source.get('text', '')} {source.get('section', '')}")))
        scored = [(i, self.text_score(query, s, df, len(docs))) for i, s in docs.items()]
        if kind in ("term", "terms", "prefix", "match_all") or (kind == "bool" and not value.get("must")):
            scored = [(i, 1.0) for i, s in docs.items() if self.matches(query, s)]
        return sorted([item for item in scored if item[1] > 0], key=lambda item: -item[1])[:size]


class StandIn:
    """Start with ``service`` = ``es`` or ``aoss``; ``fail_next`` makes the next request answer a status."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.store = Store()
        self.requests: list[dict[str, Any]] = []
        self.fail_next: list[int] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    verify_sigv4(self.command, parts.path, parts.query, headers, body, standin.service)
                    if standin.fail_next:
                        status = standin.fail_next.pop(0)
                        raise BadRequest(status, "injected", f"injected failure {status}")
                    status, reply = standin.dispatch(
                        self.command, parts.path, dict(parse_qsl(parts.query)), body
                    )
                except BadRequest as error:
                    status = error.status
                    reply = {"error": {"type": error.kind, "reason": error.reason}, "status": error.status}
                standin.requests.append(
                    {
                        "method": self.command,
                        "path": parts.path,
                        "query": parts.query,
                        "status": status,
                        "body": body.decode() if body else "",
                    }
                )
                data = b"" if self.command == "HEAD" else json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _json(self, body: bytes) -> dict[str, Any]:
        try:
            value = json.loads(body or b"{}")
        except ValueError as error:
            raise BadRequest(400, "parse_exception", f"request body is not JSON: {error}") from error
        if not isinstance(value, dict):
            raise BadRequest(400, "parse_exception", "request body must be an object")
        return value

    def _index(self, name: str) -> dict[str, Any]:
        if name not in self.store.indexes:
            raise BadRequest(404, "index_not_found_exception", f"no such index [{name}]")
        return self.store.indexes[name]

    def dispatch(self, method: str, path: str, params: dict[str, str], body: bytes) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["_search", "pipeline"] and method == "PUT":
            self.store.pipelines[parts[2]] = validate_pipeline(self._json(body))
            return 200, {"acknowledged": True}
        if parts == ["_bulk"] and method in ("POST", "PUT"):
            return 200, self.bulk(body)
        if len(parts) == 1 and method == "HEAD":
            return (200 if parts[0] in self.store.indexes else 404), {}
        if len(parts) == 1 and method == "PUT":
            if parts[0] in self.store.indexes:
                raise BadRequest(400, "resource_already_exists_exception", f"index [{parts[0]}] exists")
            mappings = validate_index_body(self._json(body), serverless=self.service == "aoss")
            self.store.indexes[parts[0]] = {"mappings": mappings, "docs": {}}
            return 200, {"acknowledged": True, "index": parts[0]}
        if len(parts) == 2 and parts[1] == "_mapping" and method == "GET":
            return 200, {parts[0]: {"mappings": self._index(parts[0])["mappings"]}}
        if len(parts) == 2 and parts[1] == "_count":
            return 200, {"count": len(self._index(parts[0])["docs"])}
        if len(parts) == 2 and parts[1] == "_search" and method in ("GET", "POST"):
            return 200, self.search(self._index(parts[0]), self._json(body), params)
        raise BadRequest(405, "invalid_request", f"{method} {path} is not served by the stand-in")

    def bulk(self, body: bytes) -> dict[str, Any]:
        lines = [line for line in body.decode().split("\n") if line.strip()]
        if not body.endswith(b"\n"):
            raise BadRequest(
                400, "illegal_argument_exception", "The bulk request must be terminated by a newline"
            )
        items, errors, position = [], False, 0
        while position < len(lines):
            header = json.loads(lines[position])
            position += 1
            if len(header) != 1 or next(iter(header)) not in ("index", "create", "delete", "update"):
                raise BadRequest(
                    400, "illegal_argument_exception", f"Malformed action/metadata line: {header}"
                )
            ((action, meta),) = header.items()
            index = self._index(meta["_index"]) if "_index" in meta else None
            if index is None:
                raise BadRequest(400, "action_request_validation_exception", "index is missing")
            if action in ("index", "create"):
                source = json.loads(lines[position])
                position += 1
                if self.service == "aoss" and "_id" in meta:
                    item = {
                        "status": 400,
                        "error": {
                            "type": "illegal_argument_exception",
                            "reason": "Document ID is not supported in create/index operation request",
                        },
                    }
                    errors = True
                else:
                    dimension = index["mappings"]["properties"]["embedding"]["dimension"]
                    if len(source.get("embedding", [])) != dimension:
                        item = {
                            "status": 400,
                            "error": {
                                "type": "mapper_parsing_exception",
                                "reason": f"Vector dimension mismatch. Expected: {dimension}",
                            },
                        }
                        errors = True
                    else:
                        _id = meta.get("_id") or uuid.uuid4().hex[:20]
                        index["docs"][_id] = source
                        item = {"_id": _id, "status": 201, "result": "created"}
                items.append({action: item})
            elif action == "delete":
                if "_id" not in meta:
                    raise BadRequest(400, "action_request_validation_exception", "id is missing")
                found = index["docs"].pop(meta["_id"], None)
                items.append(
                    {
                        "delete": {
                            "_id": meta["_id"],
                            "status": 200 if found else 404,
                            "result": "deleted" if found else "not_found",
                        }
                    }
                )
        return {"took": 1, "errors": errors, "items": items}

    def search(self, index: dict[str, Any], body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        unknown = set(body) - SEARCH_KEYS
        if unknown:
            raise BadRequest(400, "parsing_exception", f"Unknown key(s) {sorted(unknown)} in search body")
        dimension = index["mappings"]["properties"]["embedding"]["dimension"]
        size = int(body.get("size", 10))
        query = body.get("query", {"match_all": {}})
        validate_query(query, dimension, top=True)
        if "hybrid" in query:
            pipeline = self.store.pipelines.get(params.get("search_pipeline", ""))
            if pipeline is None:
                raise BadRequest(
                    400, "illegal_argument_exception", "hybrid query needs an existing search_pipeline"
                )
            processor = pipeline["phase_results_processors"][0]["normalization-processor"]
            weights = processor["combination"].get("parameters", {}).get("weights")
            subqueries = query["hybrid"]["queries"]
            weights = weights or [1.0 / len(subqueries)] * len(subqueries)
            combined: dict[str, float] = {}
            for weight, sub in zip(weights, subqueries, strict=True):
                scored = self.store.run(index, sub, size)
                if not scored:
                    continue
                high, low = scored[0][1], scored[-1][1]
                for _id, score in scored:
                    normal = 1.0 if high == low else (score - low) / (high - low)
                    combined[_id] = combined.get(_id, 0.0) + weight * normal
            hits = sorted(combined.items(), key=lambda item: -item[1])[:size]
        else:
            hits = self.store.run(index, query, size)
        aggregations = {}
        for name, spec in (body.get("aggs") or body.get("aggregations") or {}).items():
            field = spec["terms"]["field"]
            counts = Counter(_field(s, field) for s in index["docs"].values())
            aggregations[name] = {
                "buckets": [
                    {"key": k, "doc_count": c} for k, c in counts.most_common(spec["terms"].get("size", 10))
                ]
            }
        excludes = (
            set((body.get("_source") or {}).get("excludes", []))
            if isinstance(body.get("_source"), dict)
            else set()
        )
        includes = body.get("_source") if isinstance(body.get("_source"), list) else None
        out = []
        for _id, score in hits:
            source = index["docs"][_id]
            shown = {
                k: v for k, v in source.items() if k not in excludes and (includes is None or k in includes)
            }
            out.append({"_index": "x", "_id": _id, "_score": score, "_source": shown})
        reply: dict[str, Any] = {"hits": {"total": {"value": len(out), "relation": "eq"}, "hits": out}}
        if aggregations:
            reply["aggregations"] = aggregations
        return reply


@pytest.fixture
def standin_es() -> Iterator[StandIn]:
    server = StandIn("es")
    yield server
    server.close()


# -- the stand-in's own checks can fail ------------------------------------------------------------------


def _signed(
    server: StandIn,
    method: str,
    path: str,
    body: Any = None,
    *,
    secret: str = SECRET_KEY,
    raw: bytes | None = None,
    content_hash: bool = True,
) -> httpx.Response:
    """Sign as botocore does; like opensearch-py, send x-amz-content-sha256 (aoss requires it)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    data = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
    request = AWSRequest(method=method, url=server.url + path, data=data)
    SigV4Auth(Credentials(ACCESS_KEY, secret), server.service, REGION).add_auth(request)
    headers = dict(request.headers.items())
    if content_hash:
        headers["X-Amz-Content-SHA256"] = hashlib.sha256(data).hexdigest()
    return httpx.request(method, server.url + path, content=data, headers=headers)


def _mapping(**method: Any) -> dict[str, Any]:
    field = {
        "type": "knn_vector",
        "dimension": 4,
        "method": {"name": "hnsw", "engine": "lucene", "space_type": "cosinesimil", **method},
    }
    return {"settings": {"index": {"knn": True}}, "mappings": {"properties": {"embedding": field}}}


def test_a_signature_made_with_the_wrong_secret_is_refused(standin_es: StandIn) -> None:
    assert _signed(standin_es, "PUT", "/good", _mapping()).status_code == 200
    reply = _signed(standin_es, "PUT", "/other", _mapping(), secret="wrong")
    assert reply.status_code == 403 and "signature" in reply.json()["error"]["reason"]
    assert httpx.put(standin_es.url + "/unsigned", json=_mapping()).status_code == 403


def test_invalid_mappings_are_refused(standin_es: StandIn) -> None:
    assert _signed(standin_es, "PUT", "/a", _mapping(space_type="hamming")).status_code == 400
    assert _signed(standin_es, "PUT", "/b", _mapping(parameters={"ef_search": 10})).status_code == 400
    no_knn = {**_mapping(), "settings": {"index": {}}}
    assert _signed(standin_es, "PUT", "/c", no_knn).status_code == 400


def test_invalid_queries_are_refused(standin_es: StandIn) -> None:
    assert _signed(standin_es, "PUT", "/idx", _mapping()).status_code == 200
    wrong_dimension = {"query": {"knn": {"embedding": {"vector": [1.0, 0.0], "k": 3}}}}
    assert _signed(standin_es, "POST", "/idx/_search", wrong_dimension).status_code == 400
    assert _signed(standin_es, "POST", "/idx/_search", {"query": {"fuzzy_knn": {}}}).status_code == 400
    hybrid_without_pipeline = {"query": {"hybrid": {"queries": [{"match_all": {}}]}}}
    assert _signed(standin_es, "POST", "/idx/_search", hybrid_without_pipeline).status_code == 400
    assert _signed(standin_es, "POST", "/idx/_search", {"size": 3, "explain_all": True}).status_code == 400


def test_serverless_refuses_custom_ids_and_shard_settings() -> None:
    server = StandIn("aoss")
    try:
        sharded = {**_mapping(), "settings": {"index": {"knn": True, "number_of_shards": 2}}}
        assert _signed(server, "PUT", "/idx", sharded).status_code == 400
        assert _signed(server, "PUT", "/idx", _mapping()).status_code == 200
        lines = [{"index": {"_index": "idx", "_id": "x"}}, {"embedding": [1, 0, 0, 0]}]
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        unhashed = _signed(server, "POST", "/_bulk", raw=data, content_hash=False)
        assert unhashed.status_code == 403, "aoss needs x-amz-content-sha256"
        reply = _signed(server, "POST", "/_bulk", raw=data)
        assert reply.status_code == 200 and reply.json()["errors"] is True
        assert "Document ID is not supported" in reply.json()["items"][0]["index"]["error"]["reason"]
    finally:
        server.close()
