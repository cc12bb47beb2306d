#!/usr/bin/env node
// Publish the built dashboard (dashboard/dist) to a deployed stack: `make dashboard-deploy STACK=name`.
// Needs the aws CLI with credentials for the stack's account.
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { publishCommands, runtimeConfig, stackOutputs } from "./publish.mjs";

const { values } = parseArgs({
  options: {
    stack: { type: "string", default: "endurance" },
    region: { type: "string" },
    "dry-run": { type: "boolean", default: false },
  },
});

function fail(message) {
  console.error(`dashboard-deploy: ${message}`);
  process.exit(2);
}

const distDir = resolve(import.meta.dirname, "..", "dist");
if (!existsSync(join(distDir, "index.html"))) fail("dashboard/dist is not built: run `make dashboard`");

const regionArgs = values.region ? ["--region", values.region] : [];
let described;
try {
  described = JSON.parse(
    execFileSync("aws", ["cloudformation", "describe-stacks", "--stack-name", values.stack, "--output", "json", ...regionArgs], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
} catch (error) {
  fail(`cannot read the stack ${values.stack}: ${error.message}`);
}

let outputs;
try {
  outputs = stackOutputs(described);
} catch (error) {
  fail(error.message);
}

let fromApi = null;
try {
  const response = await fetch(`${outputs.ApiUrl.replace(/\/+$/, "")}/config.json`, { signal: AbortSignal.timeout(10000) });
  if (response.ok) fromApi = await response.json();
  else console.error(`dashboard-deploy: ${outputs.ApiUrl}/config.json answered ${response.status}; using the stack outputs`);
} catch (error) {
  console.error(`dashboard-deploy: cannot read ${outputs.ApiUrl}/config.json (${error.message}); using the stack outputs`);
}

let config;
try {
  config = runtimeConfig(outputs, fromApi);
} catch (error) {
  fail(error.message);
}
const configPath = join(distDir, "config.json");
writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
console.log(`config.json: ${JSON.stringify(config)}`);

const commands = publishCommands({
  bucket: outputs.DashboardBucketName,
  distributionId: outputs.DashboardDistributionId,
  distDir,
  configPath,
  region: values.region,
});
for (const command of commands) {
  console.log(`$ ${command.join(" ")}`);
  if (!values["dry-run"]) execFileSync(command[0], command.slice(1), { stdio: "inherit" });
}
console.log(`dashboard: ${outputs.DashboardUrl}`);
