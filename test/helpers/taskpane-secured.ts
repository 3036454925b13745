import path from "node:path";
import { Cube } from "../../backend/src/lattice";
import { checkModel, type SecurityModelInput } from "../../backend/src/security";
import { openTestPage, type TestPage } from "./browser-page";
import { CubeServer } from "./cube-server";
import { smallCubeCells, smallCubeDef } from "./small-cube";
import "./taskpane-page-api";

/**
 * The task pane test page (./taskpane-page.tsx, Office replaced at the host module) served by a
 * PGlite backend holding the small cube with the security section `security` (checked against
 * the cube first): the server's development sign-in then lists the section's users.
 * @param name the temporary folder's prefix, e.g. `qatom-taskpane-rights-`.
 */
export function openSecuredTaskpane(name: string, security: SecurityModelInput): Promise<TestPage<CubeServer>> {
  const model = checkModel(security, new Cube(smallCubeDef, smallCubeCells()));
  return openTestPage({
    name,
    entry: path.join(__dirname, "taskpane-page.tsx"),
    page: "taskpane-test.html",
    title: "QuantatomAI",
    startServer: (pageDir) => CubeServer.start("PGlite", smallCubeDef, smallCubeCells(), { QATOM_ADDIN_DIR: pageDir }, model),
  });
}

/**
 * {@link openSecuredTaskpane} with planners who may spread everywhere (no dimension is secured):
 * Ann and Bob, and `admin`, the cube's admin; the development sign-in lists them.
 */
export function openPlannersTaskpane(name: string): Promise<TestPage<CubeServer>> {
  return openSecuredTaskpane(name, {
    admins: ["admin"],
    groups: [{ name: "planners", rights: {} }],
    users: [
      { id: "ann", name: "Ann Analyst", groups: ["planners"] },
      { id: "bob", name: "Bob Budget", groups: ["planners"] },
    ],
  });
}
