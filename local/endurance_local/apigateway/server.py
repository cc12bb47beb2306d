"""The local API Gateway as one ASGI app, and a uvicorn server that runs it on a background thread."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from endurance_local.apigateway.http_api import HTTP_METHODS, HttpApiGateway
from endurance_local.apigateway.websocket_api import WebSocketGateway
from endurance_local.model import Deployment, Invoker

RESOURCES_PATH = "/__local/resources"


class StaticSite:
    """A built single-page app: real files by path, index.html for routes the client-side router owns."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def _existing(self, path: str) -> Path | None:
        candidate = (self._root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self._root):
            return None  # ../ escapes
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def file(self, path: str) -> Response | None:
        found = self._existing(path)
        return FileResponse(found) if found is not None else None

    def index(self, path: str) -> Response | None:
        # A path with an extension is a missing asset, which should 404 rather than return HTML.
        if "." in path.rsplit("/", 1)[-1]:
            return None
        index = self._root / "index.html"
        return FileResponse(index) if index.is_file() else None


def build_app(
    deployment: Deployment,
    invoker: Invoker,
    *,
    api_host: str,
    api_port: int,
    resources: Callable[[], dict[str, Any]],
    static_dir: Path | None = None,
) -> Starlette:
    """One app for every HTTP route, every WebSocket API stage and its @connections endpoint."""
    domain_name = f"{api_host}:{api_port}"
    http = HttpApiGateway(
        deployment,
        invoker,
        domain_name=domain_name,
        static=StaticSite(static_dir) if static_dir is not None else None,
    )
    websockets = WebSocketGateway(deployment.websocket_apis, invoker, domain_name=domain_name)

    async def list_resources(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(resources))

    routes: list[BaseRoute] = [Route(RESOURCES_PATH, list_resources, methods=["GET"])]
    routes.extend(websockets.routes())
    # Last, so the runtime's own paths and the management API are never taken by a greedy API route.
    routes.append(Route("/{path:path}", http.handle, methods=HTTP_METHODS))
    return Starlette(routes=routes)


class ApiServer:
    """uvicorn on a background thread, so the runtime (and tests) can start and stop it like an object."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            raise RuntimeError("the API server is already running")
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            lifespan="off",
            # None: leave the host process's logging alone instead of installing uvicorn's dictConfig.
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)

        def serve() -> None:
            # uvicorn exits the process when it cannot bind; on this thread that only ends the thread,
            # which start() notices and reports.
            with contextlib.suppress(SystemExit):
                server.run()

        thread = threading.Thread(target=serve, name=f"api-gateway-{self.port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the API server could not listen on {self.host}:{self.port}")
            if time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout)
                raise RuntimeError(f"the API server did not start on {self.host}:{self.port} in {timeout}s")
            time.sleep(0.01)
        if self.port == 0:
            self.port = server.servers[0].sockets[0].getsockname()[1]
        self._server, self._thread = server, thread

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful: open WebSockets are closed (their $disconnect runs), in-flight requests finish."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._server = self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
