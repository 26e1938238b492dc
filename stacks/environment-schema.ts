import { z } from "zod";
import { type Catalog, schemaFor } from "./environment";

/** Where the JSON Schema of environment files is committed, relative to the repository root. */
export const ENVIRONMENT_SCHEMA_FILE = "docs/environment.schema.json";

/**
 * The JSON Schema of an environment file (what a user writes: defaults are optional), generated
 * from the zod schema the app validates with, for editors: a shipped file names it in its first
 * line (`# yaml-language-server: $schema=…`) and gets completion and checks as it is typed. Rules
 * that span fields (two services on one port, the Watchdog kept) are the app's alone.
 */
export function environmentJsonSchema(catalog: Catalog): string {
  const schema = z.toJSONSchema(schemaFor(catalog), { io: "input", unrepresentable: "any", target: "draft-2020-12" });
  return `${JSON.stringify({ ...schema, title: "protocol-monitoring environment file", $comment: `Generated from stacks/environment.ts by \`scripts/cli.sh schema\`; do not edit.` }, null, 2)}\n`;
}
