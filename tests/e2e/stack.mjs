// Starts the real local stack for the browser test: `endurance ingest` of the sample documents into a
// fresh state folder, then `endurance local up` on free loopback ports serving the built dashboard, with
// FaultInjection=1 (a question containing "[[fail:answer]]" fails on its first attempt only).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..", "..");
const ENDURANCE = join(ROOT, ".venv", "bin", "endurance");

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export async function startStack({ timeoutMs = 120_000 } = {}) {
  if (!existsSync(ENDURANCE)) throw new Error(`${ENDURANCE} is missing: run \`make install\` first`);
  const dist = join(ROOT, "dashboard", "dist");
  if (!existsSync(join(dist, "index.html"))) throw new Error("dashboard/dist is not built: run `make dashboard`");
  const stateDir = mkdtempSync(join(tmpdir(), "endurance-e2e-"));
  const ingest = spawnSync(ENDURANCE, ["ingest", "samples/documents", "--state-dir", stateDir], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (ingest.status !== 0) throw new Error(`ingest failed (${ingest.status}): ${ingest.stderr || ingest.stdout}`);

  const apiPort = await freePort();
  const awsPort = await freePort();
  const args = [
    "local", "up",
    "--state-dir", stateDir,
    "--api-port", String(apiPort),
    "--aws-port", String(awsPort),
    "--static-dir", dist,
    "--parameter-overrides", "FaultInjection=1",
  ];
  // Its own process group, so stopping it also stops the function workers it started.
  const child = spawn(ENDURANCE, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));

  await new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      if (/^ready in /m.test(output)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout.on("data", check);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited (${code}) before it was ready:\n${output}`));
    });
  });

  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once("exit", done));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(stateDir, { recursive: true, force: true });
  };
  return { apiUrl: `http://127.0.0.1:${apiPort}`, stop, output: () => output };
}
