/** Bundle: raw and gzipped size of the widget bundle, `dist/chat-widget.js`. */

import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { ROOT } from "../server_process.ts";
import { fmt, spread } from "../stats.ts";
import { target, TARGETS } from "../targets.ts";

/** What a host page downloads for the widget, as built; "not built" when there is no bundle. */
export async function bundle(
  { file = join(ROOT, "dist/chat-widget.js") }: Partial<ScenarioOptions> & {
    /** The bundle to measure. */
    file?: string;
  },
  { progress }: Pick<ScenarioTools, "progress">,
): Promise<ScenarioResult> {
  let data: Uint8Array;
  try {
    data = await Deno.readFile(file);
  } catch {
    progress.line("bundle: not built");
    return {
      runs: [],
      figures: {},
      targets: [target(TARGETS.bundleGzipped, { value: NaN }, { note: "not built" })],
      skipped: { bundle: "dist/chat-widget.js not built (deno task build)" },
    };
  }
  const gz = gzipSync(data, { level: 9 }).length;
  progress.line(`bundle: ${fmt(data.length / 1024)} KB raw, ${fmt(gz / 1024)} KB gzipped`);
  return {
    runs: [],
    figures: { "raw KB": spread([data.length / 1024]), "gzip -9 KB": spread([gz / 1024]) },
    targets: [target(TARGETS.bundleGzipped, { value: gz / 1024 })],
    skipped: {},
  };
}
