import type { Command } from "commander";
import { readConfig } from "../config";
import { startServer } from "../server/main";

/**
 * Adds `quantatom serve`: starts the backend with the configuration from the environment
 * (see readConfig: PORT, QATOM_HTTP, QATOM_DATA_DIR, DATABASE_URL, REDIS_URL, KAFKA_BROKERS, ...), loading the model
 * into the store on first start. Stops cleanly on SIGINT or SIGTERM.
 */
export function registerServeCommand(program: Command): void {
  program
    .command("serve", { isDefault: true })
    .description(
      "serve the cubes over Connect RPC, with /healthz and the add-in's files (env: PORT=3000, QATOM_HTTP=1 for plain HTTP, QATOM_DATA_DIR=./.quantatom, DATABASE_URL, REDIS_URL, KAFKA_BROKERS, QATOM_INSTANCE_ID, QATOM_MODEL, QATOM_ADDIN_DIR; see the README)",
    )
    .option("-p, --port <port>", "TCP port (overrides PORT)")
    .option("--http", "serve plain HTTP instead of HTTPS (same as QATOM_HTTP=1)")
    .action(async (opts: { port?: string; http?: boolean }) => {
      const env = { ...process.env };
      if (opts.port !== undefined) env.PORT = opts.port;
      if (opts.http) env.QATOM_HTTP = "1";
      const config = readConfig(env);
      const server = await startServer(config);
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      await server.ready;
    });
}
