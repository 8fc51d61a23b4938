/** Reading `GET /metrics` in tests: a small parser of the Prometheus text format (0.0.4). */

/** One sample line: a series and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: the declared type of each metric family and every sample. */
export class Exposition {
  /** `# TYPE` of each family, by family name. */
  readonly types: Map<string, string>;
  /** `# HELP` of each family, by family name. */
  readonly help: Map<string, string>;
  readonly samples: Sample[];

  constructor(types: Map<string, string>, help: Map<string, string>, samples: Sample[]) {
    this.types = types;
    this.help = help;
    this.samples = samples;
  }

  /** The value of the series `name` with exactly `labels`, or undefined when it is not there. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const wanted = labelKey(labels);
    return this.samples.find((s) => s.name === name && labelKey(s.labels) === wanted)?.value;
  }

  /** Like `value()`, with an absent series read as 0 (a counter not yet incremented). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.value(name, labels) ?? 0;
  }

  /** The samples of the series `name` whose labels include `labels`. */
  series(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) =>
      s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
    );
  }
}

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(raw: string, line: string): number {
  if (raw === "+Inf") return Infinity;
  if (raw === "-Inf") return -Infinity;
  if (raw === "NaN") return NaN;
  const value = Number(raw);
  if (raw === "" || Number.isNaN(value)) {
    throw new SyntaxError(`Cannot parse the value "${raw}" of line "${line}"`);
  }
  return value;
}

/** Reads `name{a="b",...}` from the start of `rest`; returns the labels and what follows. */
function parseLabels(rest: string, line: string): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  if (!rest.startsWith("{")) return [labels, rest];
  let i = 1;
  while (rest[i] !== "}") {
    const name = LABEL_NAME.exec(rest.slice(i))?.[0];
    if (!name || rest.slice(i + name.length, i + name.length + 2) !== '="') {
      throw new SyntaxError(`Cannot parse the labels of line "${line}"`);
    }
    i += name.length + 2;
    let value = "";
    while (rest[i] !== '"') {
      if (i >= rest.length) throw new SyntaxError(`Unterminated label value in line "${line}"`);
      if (rest[i] === "\\") {
        const next = rest[i + 1];
        value += next === "n" ? "\n" : next;
        i += 2;
      } else {
        value += rest[i++];
      }
    }
    if (name in labels) throw new SyntaxError(`Label "${name}" twice in line "${line}"`);
    labels[name] = value;
    i++;
    if (rest[i] === ",") i++;
    else if (rest[i] !== "}") throw new SyntaxError(`Cannot parse the labels of line "${line}"`);
  }
  return [labels, rest.slice(i + 1)];
}

/** The family a sample belongs to: histogram and summary samples carry a suffix. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    if (base && ["histogram", "summary"].includes(types.get(base) ?? "")) return base;
  }
  return undefined;
}

/**
 * Parses the text format; throws a `SyntaxError` naming the line for anything
 * malformed, and for a sample whose family has no `# TYPE` line before it.
 */
export function parsePrometheus(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      if (kind === "HELP") help.set(name, rest);
      else if (["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) {
        types.set(name, rest);
      } else throw new SyntaxError(`Unknown type in line "${line}"`);
      continue;
    }
    if (line.startsWith("#")) continue;
    const name = NAME.exec(line)?.[0];
    if (!name) throw new SyntaxError(`Cannot parse the line "${line}"`);
    const [labels, rest] = parseLabels(line.slice(name.length), line);
    const [value, timestamp, extra] = rest.trim().split(/\s+/);
    if (!rest.startsWith(" ") || extra !== undefined) {
      throw new SyntaxError(`Cannot parse the line "${line}"`);
    }
    if (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) {
      throw new SyntaxError(`Cannot parse the timestamp of line "${line}"`);
    }
    if (familyOf(name, types) === undefined) {
      throw new SyntaxError(`No # TYPE line before the sample "${name}"`);
    }
    samples.push({ name, labels, value: parseValue(value, line) });
  }
  return new Exposition(types, help, samples);
}

/** `GET /metrics` of the server at `url` (with `token` as the bearer), parsed; throws unless 200. */
export async function scrape(url: string, token?: string): Promise<Exposition> {
  const response = await fetch(`${url}/metrics`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`Cannot scrape ${url}/metrics: ${response.status} ${text.slice(0, 200)}`);
  }
  return parsePrometheus(text);
}
