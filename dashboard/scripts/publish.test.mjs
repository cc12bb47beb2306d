// @vitest-environment node
import { describe, expect, it } from "vitest";
import { publishCommands, runtimeConfig, stackOutputs } from "./publish.mjs";

const described = {
  Stacks: [
    {
      Outputs: [
        { OutputKey: "ApiUrl", OutputValue: "https://abc.execute-api.eu-west-1.amazonaws.com" },
        { OutputKey: "WebSocketUrl", OutputValue: "wss://ws1.execute-api.eu-west-1.amazonaws.com/prod" },
        { OutputKey: "DashboardBucketName", OutputValue: "endurance-dashboardbucket-x1" },
        { OutputKey: "DashboardDistributionId", OutputValue: "E123" },
        { OutputKey: "DashboardUrl", OutputValue: "https://d1.cloudfront.net" },
      ],
    },
  ],
};

describe("publishing the dashboard", () => {
  it("reads the stack outputs and names the missing ones", () => {
    expect(stackOutputs(described).DashboardBucketName).toBe("endurance-dashboardbucket-x1");
    const old = { Stacks: [{ Outputs: described.Stacks[0].Outputs.slice(0, 2) }] };
    expect(() => stackOutputs(old)).toThrow(/no output DashboardBucketName, DashboardDistributionId, DashboardUrl/);
    expect(() => stackOutputs({ Stacks: [] })).toThrow(/not found/);
  });

  it("writes the API's own view of the config, with the stack outputs as the fallback", () => {
    const outputs = stackOutputs(described);
    expect(runtimeConfig(outputs, { websocket_url: "wss://custom/prod", admin_token_required: true })).toEqual({
      api_url: "https://abc.execute-api.eu-west-1.amazonaws.com",
      websocket_url: "wss://custom/prod",
      admin_token_required: true,
    });
    expect(runtimeConfig(outputs, null)).toEqual({
      api_url: "https://abc.execute-api.eu-west-1.amazonaws.com",
      websocket_url: "wss://ws1.execute-api.eu-west-1.amazonaws.com/prod",
      admin_token_required: false,
    });
    expect(() => runtimeConfig({ ...outputs, WebSocketUrl: "https://nope" }, null)).toThrow(/not a ws\(s\) URL/);
  });

  it("uploads assets before index.html and config.json, which are never cached, then invalidates them", () => {
    const commands = publishCommands({
      bucket: "b",
      distributionId: "E123",
      distDir: "/d/dist",
      configPath: "/d/dist/config.json",
      region: "eu-west-1",
    });
    expect(commands.map((command) => command.slice(0, 3).join(" "))).toEqual([
      "aws s3 sync",
      "aws s3 cp",
      "aws s3 cp",
      "aws cloudfront create-invalidation",
    ]);
    expect(commands[0]).toEqual(expect.arrayContaining(["--delete", "public,max-age=31536000,immutable", "index.html", "config.json"]));
    expect(commands[1]).toEqual(expect.arrayContaining(["s3://b/index.html", "no-cache"]));
    expect(commands[2]).toEqual(expect.arrayContaining(["s3://b/config.json", "no-store", "application/json"]));
    expect(commands[3]).toEqual(["aws", "cloudfront", "create-invalidation", "--distribution-id", "E123", "--paths", "/index.html", "/config.json"]);
  });
});
