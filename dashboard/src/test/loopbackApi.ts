// An HTTP server on 127.0.0.1 that answers like the Endurance API for the routes a test scripts: a
// stand-in for the Python stack (which the e2e test runs for real), so the client code under test makes
// real HTTP requests with real status codes, headers and bodies.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export interface Reply {
  status?: number;
  body?: unknown;
  raw?: string;
  delayMs?: number;
  contentType?: string;
}

export type Handler = (request: Recorded) => Reply | undefined;

export class LoopbackApi {
  readonly requests: Recorded[] = [];
  private readonly server: Server;
  private routes: Handler[] = [];

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const url = new URL(request.url ?? "/", "http://loopback");
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text || null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          // keep the raw text
        }
        const recorded: Recorded = {
          method: request.method ?? "GET",
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: request.headers,
          body,
        };
        if (recorded.method === "OPTIONS") {
          response.writeHead(204, {
            "access-control-allow-origin": "*",
            "access-control-allow-headers": "content-type, authorization",
            "access-control-allow-methods": "GET, POST, OPTIONS",
          });
          response.end();
          return;
        }
        this.requests.push(recorded);
        let reply: Reply | undefined;
        for (const route of this.routes) {
          reply = route(recorded);
          if (reply) break;
        }
        reply ??= { status: 404, body: { error: { code: "not_found", message: `no route ${recorded.method} ${recorded.path}` } } };
        const send = () => {
          response.writeHead(reply.status ?? 200, {
            "content-type": reply.contentType ?? "application/json",
            "access-control-allow-origin": "*",
          });
          response.end(reply.raw ?? (reply.body === undefined ? "" : JSON.stringify(reply.body)));
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      });
    });
  }

  on(handler: Handler): this {
    this.routes.push(handler);
    return this;
  }

  route(method: string, path: string | RegExp, reply: Reply | ((request: Recorded) => Reply)): this {
    return this.on((request) => {
      const matches = typeof path === "string" ? request.path === path : path.test(request.path);
      if (request.method !== method || !matches) return undefined;
      return typeof reply === "function" ? reply(request) : reply;
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
