/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The API and WebSocket URLs are not in the bundle: the app reads them from /config.json at start-up
// (served by the API locally, written next to the bundle on AWS). `npm run dev` proxies that file to a
// local stack on :3000 (`make run`).
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    assetsDir: "assets",
  },
  server: {
    proxy: {
      "/config.json": "http://127.0.0.1:3000",
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}", "scripts/**/*.test.mjs"],
    testTimeout: 10000,
  },
});
