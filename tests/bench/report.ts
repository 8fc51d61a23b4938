/** The `--report` page: one self-contained HTML file with inline SVG charts, no external assets. */

/** One bar group of a chart: a label and one value per series (NaN = absent). */
export interface BarGroup {
  label: string;
  values: number[];
  /** Optional min-max per series, drawn as a whisker. */
  ranges?: ([number, number] | null)[];
}

/** A grouped bar chart. */
export interface BarChart {
  title: string;
  unit: string;
  series: string[];
  groups: BarGroup[];
  /** Horizontal target lines. */
  targets?: { value: number; label: string }[];
  log?: boolean;
}

const COLORS = ["#3b6fd6", "#e0892b", "#c23b5a", "#3a9d6b", "#7b5cc4"];

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

function short(value: number): string {
  if (!Number.isFinite(value)) return "";
  const abs = Math.abs(value);
  if (abs >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  if (abs >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Renders `chart` as an inline SVG element. */
export function barChartSvg(chart: BarChart): string {
  const width = 760;
  const height = 316;
  const left = 64;
  const right = 16;
  const top = 52;
  const bottom = 64;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = chart.groups.flatMap((g) => [
    ...g.values,
    ...(g.ranges ?? []).flatMap((r) => (r ? [r[1]] : [])),
  ]).concat((chart.targets ?? []).map((t) => t.value)).filter((v) => Number.isFinite(v) && v > 0);
  const maxValue = all.length > 0 ? Math.max(...all) * 1.1 : 1;
  const minValue = chart.log ? Math.max(Math.min(...all, maxValue) / 2, 1e-3) : 0;
  const y = (v: number) => {
    if (chart.log) {
      const lv = Math.log10(Math.max(v, minValue));
      const lo = Math.log10(minValue);
      const hi = Math.log10(maxValue);
      return top + plotH - ((lv - lo) / (hi - lo || 1)) * plotH;
    }
    return top + plotH - (v / maxValue) * plotH;
  };
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${
      esc(chart.title)
    }">`,
  );
  parts.push(
    `<text x="${left}" y="20" font-size="15" font-weight="600">${esc(chart.title)}</text>`,
  );
  // Grid and axis labels.
  const ticks: number[] = [];
  if (chart.log) {
    for (let e = Math.floor(Math.log10(minValue)); e <= Math.ceil(Math.log10(maxValue)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= minValue && v <= maxValue) ticks.push(v);
      }
    }
  } else {
    const step = 10 ** Math.floor(Math.log10(maxValue / 5 || 1));
    const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => maxValue / s <= 6) ?? step * 10;
    for (let v = 0; v <= maxValue; v += nice) ticks.push(v);
  }
  for (const v of ticks) {
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${yy}" y2="${yy}" stroke="#e3e3e3"/>`);
    parts.push(
      `<text x="${
        left - 6
      }" y="${yy}" font-size="11" text-anchor="end" dominant-baseline="middle" fill="#555">${
        short(v)
      }</text>`,
    );
  }
  parts.push(
    `<text x="14" y="${top + plotH / 2}" font-size="11" fill="#555" transform="rotate(-90 14 ${
      top + plotH / 2
    })" text-anchor="middle">${esc(chart.unit)}${chart.log ? " (log scale)" : ""}</text>`,
  );
  const groupW = plotW / Math.max(1, chart.groups.length);
  const barW = Math.min(36, (groupW * 0.8) / Math.max(1, chart.series.length));
  chart.groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * chart.series.length) / 2;
    g.values.forEach((v, si) => {
      if (!Number.isFinite(v)) return;
      const x = x0 + si * barW;
      const yy = y(v);
      const h = top + plotH - yy;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${
          Math.max(0.5, h).toFixed(1)
        }" fill="${COLORS[si % COLORS.length]}"><title>${
          esc(`${g.label} ${chart.series[si]}: ${short(v)} ${chart.unit}`)
        }</title></rect>`,
      );
      const r = g.ranges?.[si];
      if (r && Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[0] !== r[1]) {
        const cx = (x + (barW - 2) / 2).toFixed(1);
        parts.push(
          `<line x1="${cx}" x2="${cx}" y1="${y(r[0]).toFixed(1)}" y2="${
            y(r[1]).toFixed(1)
          }" stroke="#222" stroke-width="1.2"/>`,
        );
      }
      parts.push(
        `<text x="${(x + (barW - 2) / 2).toFixed(1)}" y="${
          (yy - 4).toFixed(1)
        }" font-size="9.5" text-anchor="middle" fill="#333">${short(v)}</text>`,
      );
    });
    const words = g.label.split(" ");
    const lines: string[] = [];
    for (const w of words) {
      const lastLine = lines.at(-1);
      if (lastLine !== undefined && (lastLine + " " + w).length <= Math.max(10, groupW / 6.5)) {
        lines[lines.length - 1] = lastLine + " " + w;
      } else lines.push(w);
    }
    lines.slice(0, 3).forEach((line, li) => {
      parts.push(
        `<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${
          top + plotH + 16 + li * 13
        }" font-size="11" text-anchor="middle">${esc(line)}</text>`,
      );
    });
  });
  for (const [ti, t] of (chart.targets ?? []).entries()) {
    const yy = y(t.value).toFixed(1);
    // Alternate sides so that labels of close lines do not overlap.
    const end = ti % 2 === 0;
    parts.push(
      `<line x1="${left}" x2="${
        width - right
      }" y1="${yy}" y2="${yy}" stroke="#c0392b" stroke-dasharray="6 4"/>`,
    );
    parts.push(
      `<text x="${end ? width - right - 4 : left + 4}" y="${
        (Number(yy) - 4).toFixed(1)
      }" font-size="11" text-anchor="${end ? "end" : "start"}" fill="#c0392b">${
        esc(t.label)
      }</text>`,
    );
  }
  // Legend.
  chart.series.forEach((s, si) => {
    const x = left + si * 110;
    parts.push(
      `<rect x="${x}" y="28" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/>`,
    );
    parts.push(`<text x="${x + 14}" y="37" font-size="11">${esc(s)}</text>`);
  });
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#999"/>`);
  parts.push(`</svg>`);
  return parts.join("\n");
}

/** A table: header row and body rows of already formatted cells. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

function tableHtml(table: Table): string {
  const head = table.header.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = table.rows.map((r) =>
    `<tr>${
      r.map((c) => {
        const cls = c === "PASS" ? ' class="pass"' : c === "MISS" ? ' class="miss"' : "";
        return `<td${cls}>${esc(c)}</td>`;
      }).join("")
    }</tr>`
  ).join("\n");
  return `<h2>${
    esc(table.title)
  }</h2>\n<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The whole page. */
export function reportHtml(options: {
  title: string;
  meta: string[];
  charts: BarChart[];
  tables: Table[];
  notes: string[];
}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 980px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.pass { color: #17733a; font-weight: 600; } td.miss { color: #b3261e; font-weight: 600; }
.meta { color: #555; font-size: 12px; } svg { display: block; margin: 12px 0; max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>${esc(options.title)}</h1>
<div class="meta">${options.meta.map((m) => `<div>${esc(m)}</div>`).join("\n")}</div>
${options.tables.slice(0, 1).map(tableHtml).join("\n")}
${options.charts.map(barChartSvg).join("\n")}
${options.tables.slice(1).map(tableHtml).join("\n")}
${
    options.notes.length > 0
      ? `<h2>Notes</h2><ul>${options.notes.map((n) => `<li>${esc(n)}</li>`).join("\n")}</ul>`
      : ""
  }
</body>
</html>
`;
}
