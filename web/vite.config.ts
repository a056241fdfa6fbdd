import { readFileSync } from "node:fs";
import preact from "@preact/preset-vite";
import { defineConfig, type Plugin, type PreviewServer, type ViteDevServer } from "vite";

// For `npm run dev` / `npm run preview` against a node elsewhere, same origin as the app:
//   SURETY_REST=http://127.0.0.1:1317 proxies the REST routes to that node, and
//   SURETY_LOCALNET_JSON=<file> serves that file as ./localnet.json (demo keys).
const rest = process.env.SURETY_REST;
const proxy = rest ? { "/cosmos": rest, "/surety": rest } : undefined;

function localnetJson(): Plugin {
  const file = process.env.SURETY_LOCALNET_JSON;
  const serve = (server: ViteDevServer | PreviewServer) => {
    if (!file) return;
    server.middlewares.use("/localnet.json", (_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(readFileSync(file, "utf8"));
    });
  };
  return { name: "surety-localnet-json", configureServer: serve, configurePreviewServer: serve };
}

// `base: "./"`: the built app works from any path of any static server (the node serves it at /).
export default defineConfig({
  base: "./",
  plugins: [preact(), localnetJson()],
  build: { target: "es2020", chunkSizeWarningLimit: 2000 },
  server: { proxy },
  preview: { proxy },
});
