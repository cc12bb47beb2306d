// What publishing the dashboard to AWS does, as data (deploy.mjs runs it): read the stack's outputs, take
// the runtime configuration from the deployed API's own /config.json (the same document the local runtime
// serves), write it next to the bundle, upload the bundle, and invalidate what changes on every deploy.

export const REQUIRED_OUTPUTS = ["ApiUrl", "WebSocketUrl", "DashboardBucketName", "DashboardDistributionId", "DashboardUrl"];

/** `aws cloudformation describe-stacks` JSON -> {OutputKey: OutputValue}, with the ones we need checked. */
export function stackOutputs(describeStacks) {
  const stack = describeStacks?.Stacks?.[0];
  if (!stack) throw new Error("the stack was not found (describe-stacks returned no stack)");
  const outputs = Object.fromEntries((stack.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));
  const missing = REQUIRED_OUTPUTS.filter((key) => !outputs[key]);
  if (missing.length) {
    throw new Error(`the stack has no output ${missing.join(", ")}: deploy the current template.yaml first (sam deploy)`);
  }
  return outputs;
}

/** The config.json the dashboard reads; `fromApi` is what GET {ApiUrl}/config.json answered. */
export function runtimeConfig(outputs, fromApi) {
  const config = {
    api_url: outputs.ApiUrl.replace(/\/+$/, ""),
    websocket_url: fromApi?.websocket_url || outputs.WebSocketUrl,
    admin_token_required: fromApi?.admin_token_required === true,
  };
  if (!/^https?:\/\//.test(config.api_url)) throw new Error(`ApiUrl is not an http(s) URL: ${config.api_url}`);
  if (!/^wss?:\/\//.test(config.websocket_url)) throw new Error(`WebSocketUrl is not a ws(s) URL: ${config.websocket_url}`);
  return config;
}

/** aws CLI commands, in order: hashed assets first (long cache), then index.html and config.json (never
 * cached), so a browser never gets an index.html whose assets are not there yet; then the invalidation. */
export function publishCommands({ bucket, distributionId, distDir, configPath, region }) {
  const regionArgs = region ? ["--region", region] : [];
  const target = `s3://${bucket}`;
  return [
    ["aws", "s3", "sync", distDir, `${target}/`, "--delete", "--exclude", "index.html", "--exclude", "config.json",
      "--cache-control", "public,max-age=31536000,immutable", ...regionArgs],
    ["aws", "s3", "cp", `${distDir}/index.html`, `${target}/index.html`, "--cache-control", "no-cache",
      "--content-type", "text/html; charset=utf-8", ...regionArgs],
    ["aws", "s3", "cp", configPath, `${target}/config.json`, "--cache-control", "no-store",
      "--content-type", "application/json", ...regionArgs],
    ["aws", "cloudfront", "create-invalidation", "--distribution-id", distributionId, "--paths", "/index.html",
      "/config.json"],
  ];
}
