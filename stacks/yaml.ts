import { stringify } from "yaml";

/** One serialisation for every generated file: stable key order in, byte-identical text out. */
export function toYaml(document: unknown): string {
  return stringify(document, { lineWidth: 0, sortMapEntries: false });
}
