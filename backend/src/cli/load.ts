/**
 * `quantatom load <model>`: loads a model file and its CSV data into the store (PGlite in the data
 * folder, or a PostgreSQL server), replacing a stored cube of the same name.
 */
import { DEFAULT_TENANT, TENANT_ID } from "../../../common/tenants";
import path from "node:path";
import type { Command } from "commander";
import { readConfig } from "../config";
import { loadModelIntoStore } from "../loader";
import { openStore } from "../store";

export { loadModelIntoStore } from "../loader";

/** Options of `quantatom load`. */
interface LoadCommandOptions {
  dataDir?: string;
  databaseUrl?: string;
  tenant?: string;
}

/**
 * Adds `quantatom load <model> [--data-dir <dir>] [--database-url <url>] [--tenant <id>]` to `program`.
 *
 * The model is loaded entirely in memory (progress bars on stderr per phase: reading CSVs,
 * aggregating facts, building cells, saving to the store), then saved with store.saveCube in one
 * transaction; a summary goes to stdout: cube name, dimensions, members, leaf cells, elapsed seconds.
 * Defaults come from the environment via readConfig(): QATOM_DATA_DIR (./.quantatom) and
 * DATABASE_URL. Errors reject the action with one line (e.g. a LoadError's
 * `file:line:column: detail`), which main.ts prints before exiting with code 1.
 */
export function registerLoadCommand(program: Command): void {
  program
    .command("load")
    .description("load a model file (YAML/JSON) and its CSV data into the store, replacing a cube of the same name")
    .argument("<model>", "model file, e.g. data/foodmart/model.yaml")
    .option("--data-dir <dir>", "folder of the embedded PGlite database (default: QATOM_DATA_DIR or ./.quantatom)")
    .option("--database-url <url>", "PostgreSQL server to use instead of PGlite (default: DATABASE_URL)")
    .option("--tenant <id>", `the tenant the cube belongs to: the tid of its users' tokens (an Entra ID directory id) (default: ${DEFAULT_TENANT})`)
    .action(async (model: string, opts: LoadCommandOptions) => {
      const config = readConfig();
      const tenant = opts.tenant ?? DEFAULT_TENANT;
      if (!TENANT_ID.test(tenant)) throw new Error(`--tenant must be 1 to 64 letters, digits or -, got ${JSON.stringify(tenant)}`);
      const store = await openStore({
        databaseUrl: opts.databaseUrl ?? config.databaseUrl,
        dataDir: opts.dataDir === undefined ? config.dataDir : path.resolve(opts.dataDir),
      });
      try {
        const s = await loadModelIntoStore(store, model, undefined, tenant);
        process.stdout.write(
          `Loaded cube "${s.def.name}" (id ${s.cubeId}, tenant ${tenant}): ${s.dimensions} dimensions, ` +
            `${s.members.toLocaleString("en-US")} members, ${s.leafCells.toLocaleString("en-US")} leaf cells ` +
            `in ${s.seconds.toFixed(1)} s\n`,
        );
        for (const d of s.def.dimensions) {
          process.stdout.write(`  ${d.name}: ${d.members.length.toLocaleString("en-US")} members\n`);
        }
      } finally {
        await store.close();
      }
    });
}
