import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import type { Command } from "commander";
import { readConfig } from "../config";

/**
 * Adds `quantatom token <user>`: asks a backend in development mode on this machine for an access
 * token (`POST /auth/dev-token`) and prints it, for curl and scripts. The development HTTPS
 * certificate is trusted through its CA in `QATOM_CERTS_DIR`.
 */
export function registerTokenCommand(program: Command): void {
  program
    .command("token <user>")
    .description("print a development access token for <user> from the backend on this machine (development sign-in only; env: PORT, QATOM_HTTP, QATOM_CERTS_DIR)")
    .option("--url <url>", "the backend's URL (default https://localhost:$PORT, http:// with QATOM_HTTP=1)")
    .action(async (user: string, opts: { url?: string }) => {
      const config = readConfig();
      const url = (opts.url ?? `${config.http ? "http" : "https"}://localhost:${config.port}`).replace(/\/+$/, "");
      const caFile = path.join(config.certsDir, "ca.crt");
      const body = JSON.stringify({ user });
      const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const send = url.startsWith("https:") ? https.request : http.request;
        const req = send(
          `${url}/auth/dev-token`,
          { method: "POST", headers: { "content-type": "application/json" }, ...(url.startsWith("https:") && fs.existsSync(caFile) ? { ca: fs.readFileSync(caFile) } : {}) },
          (res: http.IncomingMessage) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => {
              text += c;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
      const json = JSON.parse(answer.text || "{}") as { accessToken?: string; message?: string };
      if (answer.status !== 200 || !json.accessToken) throw new Error(`no token from ${url}: HTTP ${answer.status} ${json.message ?? answer.text}`);
      process.stdout.write(`${json.accessToken}\n`);
    });
}
