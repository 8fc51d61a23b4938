/** The documents a newcomer reads: the front page's commands, the settings table, every link. */

import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { SETTINGS, settingsTable } from "../server/config.ts";
import { SETTINGS_DOC, withSettingsTable } from "../tools/settings_table.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

async function documents(): Promise<string[]> {
  const paths = ["README.md"];
  for await (const entry of Deno.readDir(join(ROOT, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) paths.push(`docs/${entry.name}`);
  }
  return paths.sort();
}

Deno.test("README.md is a front page with the two set-up commands", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const lines = readme.split("\n").length;
  assert.ok(lines <= 200, `README.md has ${lines} lines, more than a front page`);
  assert.match(readme, /^npx -y deno@2\.9\.6 task serve /m);
  assert.match(readme, /^npx -y deno@2\.9\.6 task test /m);
});

Deno.test("docs/operations.md's settings table is the one SETTINGS makes (deno task settings)", async () => {
  const doc = await Deno.readTextFile(SETTINGS_DOC);
  assert.equal(withSettingsTable(doc, settingsTable()), doc);
  for (const setting of Object.values(SETTINGS)) {
    assert.ok(doc.includes(`| \`${setting.env}\``), `a row for ${setting.env}`);
  }
});

Deno.test("every relative link in README.md and docs/ points at a file that exists", async () => {
  const broken: string[] = [];
  for (const path of await documents()) {
    const text = await Deno.readTextFile(join(ROOT, path));
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
      const file = normalize(join(ROOT, dirname(path), target.split("#")[0]));
      try {
        await Deno.stat(file);
      } catch {
        broken.push(`${path}: ${target}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
