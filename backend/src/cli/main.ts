/**
 * The `quantatom` command line: `quantatom serve` runs the backend, `quantatom load <model>` loads
 * a model file and its CSV data into the store, `quantatom token <user>` prints a development access
 * token. `quantatom --help` lists the options.
 */
import { Command } from "commander";
import { registerLoadCommand } from "./load";
import { registerServeCommand } from "./serve";
import { registerTokenCommand } from "./token";

const program = new Command();
program
  .name("quantatom")
  .description("QuantatomAI backend: multidimensional planning cubes served over Connect RPC")
  .showHelpAfterError();
registerServeCommand(program);
registerLoadCommand(program);
registerTokenCommand(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
