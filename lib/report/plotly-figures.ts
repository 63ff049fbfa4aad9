/**
 * Vega-Lite spec -> Plotly traces + layout, generically, so every paper's figures get
 * an interactive version in report.html without per-paper code.
 *
 * Supported: single or layered (nested) views with inline data (`data.values` or
 * top-level `datasets`); marks line/trail, point/circle/square, bar, area (a band when
 * it has y2), errorband, rule (reference lines); encodings x, y, y2, color,
 * strokeDash, shape, detail (splitting series), aggregate on x or y; linear, log and
 * temporal axes; `filter` (field predicates) and `fold` transforms. Anything else
 * (facets, concat, repeat, url data, expressions) gives `{ ok: false, reason }`, and
 * the report keeps only the static SVG for that figure.
 *
 * Seeds: where a figure's rows carry a `seed` field (and it is not on an axis), each
 * series is drawn as its mean over seeds plus one trace per seed, grouped in the
 * legend so a click shows or hides a series' seeds (hidden at first unless the spec
 * itself draws each seed).
 *
 * Pure: no DOM, no plotly import — the output is plain JSON for Plotly.newPlot.
 */

export type PlotlyTrace = Record<string, unknown>;

export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: Record<string, unknown>;
}

export type PlotlyConversion = { ok: true; figure: PlotlyFigure; notes: string[] } | { ok: false; reason: string };

type Row = Record<string, unknown>;
type Json = Record<string, unknown>;

/** Vega-Lite's default categorical scheme (tableau10), so colours match the static SVG. */
export const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const DASHES = ['solid', 'dash', 'dot', 'dashdot', 'longdash', 'longdashdot'];
const SYMBOLS = ['circle', 'square', 'cross', 'diamond', 'triangle-up', 'triangle-down', 'x', 'star'];
/** Channels whose field splits the data into series (one legend entry per value). */
const LEGEND_CHANNELS = ['color', 'strokeDash', 'shape'] as const;
const SEED_FIELD = 'seed';
const UNSUPPORTED_VIEWS = ['facet', 'repeat', 'concat', 'hconcat', 'vconcat'];
const UNSUPPORTED_CHANNELS = ['row', 'column', 'facet', 'theta', 'radius', 'latitude', 'longitude'];

class Unsupported extends Error {}

interface ChannelDef {
  field?: string;
  type?: string;
  aggregate?: string;
  title?: unknown;
  scale?: Json | null;
  axis?: Json | null;
  sort?: unknown;
  value?: unknown;
  datum?: unknown;
  bin?: unknown;
  timeUnit?: unknown;
  stack?: unknown;
}

interface Unit {
  mark: Json;
  encoding: Record<string, unknown>;
  rows: Row[];
}

interface SeriesStyle {
  color: string;
  dash: string;
  symbol: string;
}

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function vegaLiteToPlotly(spec: unknown): PlotlyConversion {
  try {
    if (!isObject(spec)) throw new Unsupported('the spec is not a JSON object');
    const notes: string[] = [];
    const units = flattenUnits(spec, { rows: undefined, encoding: {}, datasets: isObject(spec.datasets) ? spec.datasets : {} });
    const builder = new FigureBuilder(units, notes);
    const figure = builder.build(titleText(spec.title));
    if (figure.data.length === 0 && !(figure.layout.shapes as unknown[]).length) throw new Unsupported('no mark could be converted');
    return { ok: true, figure, notes };
  } catch (e) {
    if (e instanceof Unsupported) return { ok: false, reason: e.message };
    throw e;
  }
}

// ---------------------------------------------------------------- view tree -> units

interface Inherited {
  rows: Row[] | undefined;
  encoding: Record<string, unknown>;
  datasets: Json;
}

function flattenUnits(view: Json, parent: Inherited): Unit[] {
  for (const key of UNSUPPORTED_VIEWS) if (view[key] !== undefined) throw new Unsupported(`'${key}' views are not converted`);
  let rows = view.data !== undefined ? readData(view.data, parent.datasets) : parent.rows;
  if (Array.isArray(view.transform)) {
    if (!rows) throw new Unsupported('a transform without data');
    rows = applyTransforms(rows, view.transform);
  }
  const encoding = { ...parent.encoding, ...(isObject(view.encoding) ? view.encoding : {}) };
  if (Array.isArray(view.layer)) {
    return view.layer.flatMap((child) => {
      if (!isObject(child)) throw new Unsupported('a layer that is not an object');
      return flattenUnits(child, { rows, encoding, datasets: parent.datasets });
    });
  }
  if (view.mark === undefined) throw new Unsupported('a view with neither mark nor layer');
  const mark = typeof view.mark === 'string' ? { type: view.mark } : isObject(view.mark) ? view.mark : undefined;
  if (!mark || typeof mark.type !== 'string') throw new Unsupported('a mark without a type');
  for (const ch of UNSUPPORTED_CHANNELS) if (encoding[ch] !== undefined) throw new Unsupported(`the '${ch}' encoding is not converted`);
  return [{ mark, encoding, rows: rows ?? [] }];
}

function readData(data: unknown, datasets: Json): Row[] {
  if (!isObject(data)) throw new Unsupported('data is not an object');
  let values: unknown = data.values;
  if (values === undefined && typeof data.name === 'string') values = datasets[data.name];
  if (data.url !== undefined) throw new Unsupported('data from a url (only inline values are converted)');
  if (!Array.isArray(values)) throw new Unsupported('data without inline values');
  return values.map((v) => (isObject(v) ? v : { data: v }));
}

const PREDICATES: Record<string, (v: unknown, p: unknown) => boolean> = {
  equal: (v, p) => v === p,
  oneOf: (v, p) => Array.isArray(p) && p.includes(v),
  lt: (v, p) => (v as number) < (p as number),
  lte: (v, p) => (v as number) <= (p as number),
  gt: (v, p) => (v as number) > (p as number),
  gte: (v, p) => (v as number) >= (p as number),
  range: (v, p) => Array.isArray(p) && (v as number) >= (p[0] as number) && (v as number) <= (p[1] as number),
  valid: (v, p) => (v !== null && v !== undefined && !(typeof v === 'number' && Number.isNaN(v))) === p,
};

function applyTransforms(rows: Row[], transforms: unknown[]): Row[] {
  let out = rows;
  for (const t of transforms) {
    if (isObject(t) && isObject(t.filter) && typeof t.filter.field === 'string') {
      const f = t.filter as Json;
      const ops = Object.keys(PREDICATES).filter((k) => f[k] !== undefined);
      if (ops.length === 0) throw new Unsupported('a filter predicate other than equal/oneOf/lt/lte/gt/gte/range/valid');
      out = out.filter((r) => ops.every((op) => PREDICATES[op](r[f.field as string], f[op])));
    } else if (isObject(t) && Array.isArray(t.fold)) {
      const fields = t.fold as string[];
      const [key, value] = Array.isArray(t.as) ? (t.as as string[]) : ['key', 'value'];
      out = out.flatMap((r) => fields.map((f) => ({ ...r, [key]: f, [value]: r[f] })));
    } else {
      throw new Unsupported(`the transform ${JSON.stringify(Object.keys(isObject(t) ? t : {}))} is not converted`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- units -> traces

function channel(enc: Record<string, unknown>, name: string): ChannelDef | undefined {
  const c = enc[name];
  return isObject(c) ? (c as ChannelDef) : undefined;
}

function titleText(t: unknown): string | undefined {
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.join(' ');
  if (isObject(t) && (typeof t.text === 'string' || Array.isArray(t.text))) return titleText(t.text);
  return undefined;
}

/** Plotly renders a pseudo-HTML subset in text: keep user text literal. */
function plotlyText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function aggregateValues(op: string, values: number[]): number | null {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (op === 'count') return values.length;
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  switch (op) {
    case 'mean':
    case 'average':
      return mean;
    case 'sum':
      return v.reduce((a, b) => a + b, 0);
    case 'min':
      return Math.min(...v);
    case 'max':
      return Math.max(...v);
    case 'median': {
      const s = [...v].sort((a, b) => a - b);
      const m = Math.floor(s.length / 2);
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
    case 'stdev':
    case 'variance': {
      if (v.length < 2) return null;
      const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
      return op === 'stdev' ? Math.sqrt(variance) : variance;
    }
    default:
      throw new Unsupported(`the aggregate '${op}' is not converted`);
  }
}

/** True when every legend channel of the unit says `legend: null` (the static figure shows no legend). */
function legendHidden(u: Unit): boolean {
  const defs = LEGEND_CHANNELS.map((c) => channel(u.encoding, c)).filter((d): d is ChannelDef => !!d?.field);
  return defs.length > 0 && defs.every((d) => (d as Json).legend === null);
}

function seriesName(legendFields: string[], row: Row): string {
  return legendFields.map((f) => String(row[f])).join(' · ');
}

function keyOf(values: unknown[]): string {
  return JSON.stringify(values);
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const g = m.get(k);
    if (g) g.push(it);
    else m.set(k, [it]);
  }
  return m;
}

function toPlotlyValue(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  return v === undefined ? null : v;
}

function hexToRgba(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function axisType(def: ChannelDef | undefined, notes: string[], which: string): string | undefined {
  if (!def) return undefined;
  const scaleType = isObject(def.scale) ? def.scale.type : undefined;
  if (def.type === 'nominal' || def.type === 'ordinal') return 'category';
  if (def.type === 'temporal') return 'date';
  if (scaleType === 'log') return 'log';
  if (scaleType !== undefined && scaleType !== 'linear') notes.push(`${which} axis: scale '${String(scaleType)}' shown as linear`);
  return 'linear';
}

function defaultTitle(def: ChannelDef): string | undefined {
  if (!def.field) return undefined;
  if (def.aggregate) return `${def.aggregate === 'mean' ? 'Mean' : def.aggregate[0].toUpperCase() + def.aggregate.slice(1)} of ${def.field}`;
  return def.field;
}

function channelTitle(def: ChannelDef | undefined): string | null | undefined {
  if (!def) return undefined;
  if (def.title === null || (isObject(def.axis) && def.axis.title === null)) return null;
  return titleText(def.title) ?? (isObject(def.axis) ? titleText(def.axis.title) : undefined) ?? defaultTitle(def);
}

class FigureBuilder {
  private readonly traces: PlotlyTrace[] = [];
  private readonly shapes: Json[] = [];
  private readonly styles = new Map<string, SeriesStyle>();
  private readonly colorOrder: unknown[];
  private readonly dashOrder: unknown[];
  private readonly shapeOrder: unknown[];
  private readonly legendShown = new Set<string>();
  private barMode: 'group' | 'stack' | undefined;

  constructor(
    private readonly units: Unit[],
    private readonly notes: string[],
  ) {
    this.colorOrder = this.domainOf('color');
    this.dashOrder = this.domainOf('strokeDash');
    this.shapeOrder = this.domainOf('shape');
  }

  /** The values of a legend channel's field over all units, in Vega-Lite's order (sort array, scale domain, else ascending). */
  private domainOf(name: string): unknown[] {
    const seen: unknown[] = [];
    let explicit: unknown[] | undefined;
    for (const u of this.units) {
      const def = channel(u.encoding, name);
      if (!def?.field) continue;
      if (Array.isArray(def.sort)) explicit = explicit ?? def.sort;
      if (isObject(def.scale) && Array.isArray(def.scale.domain)) explicit = explicit ?? (def.scale.domain as unknown[]);
      for (const r of u.rows) if (!seen.includes(r[def.field])) seen.push(r[def.field]);
    }
    const rest = seen.filter((v) => !(explicit ?? []).includes(v));
    const ascending = rest.sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
    return [...(explicit ?? []), ...ascending];
  }

  private paletteFor(name: string): string[] {
    for (const u of this.units) {
      const def = channel(u.encoding, name);
      if (def && isObject(def.scale) && Array.isArray(def.scale.range) && def.scale.range.every((c) => typeof c === 'string')) return def.scale.range as string[];
    }
    return TABLEAU10;
  }

  private style(unit: Unit, row: Row | undefined): SeriesStyle {
    const pick = <T>(name: string, order: unknown[], palette: T[], fallback: T): T => {
      const def = channel(unit.encoding, name);
      if (def?.field && row) {
        const i = order.indexOf(row[def.field]);
        return palette[(i < 0 ? 0 : i) % palette.length];
      }
      return fallback;
    };
    const colorDef = channel(unit.encoding, 'color');
    const markColor = typeof unit.mark.color === 'string' ? unit.mark.color : typeof unit.mark.stroke === 'string' ? unit.mark.stroke : undefined;
    const constColor = colorDef && typeof colorDef.value === 'string' ? colorDef.value : markColor;
    const dashDef = channel(unit.encoding, 'strokeDash');
    const constDash = Array.isArray(unit.mark.strokeDash) || (dashDef && Array.isArray(dashDef.value)) ? 'dash' : 'solid';
    return {
      color: pick('color', this.colorOrder, this.paletteFor('color'), constColor ?? TABLEAU10[0]),
      dash: pick('strokeDash', this.dashOrder, DASHES, constDash),
      symbol: pick('shape', this.shapeOrder, SYMBOLS, 'circle'),
    };
  }

  build(title: string | undefined): PlotlyFigure {
    let x: ChannelDef | undefined;
    let y: ChannelDef | undefined;
    for (const u of this.units) {
      x = x ?? channel(u.encoding, 'x');
      y = y ?? channel(u.encoding, 'y');
    }
    for (const u of this.units) this.convertUnit(u);
    const axis = (def: ChannelDef | undefined, which: string): Json => {
      const out: Json = { automargin: true, zeroline: false };
      const type = axisType(def, this.notes, which);
      if (type) out.type = type;
      const t = channelTitle(def);
      if (t) out.title = { text: plotlyText(t) };
      if (def && isObject(def.axis) && typeof def.axis.format === 'string') out.tickformat = def.axis.format;
      if (def && isObject(def.axis) && typeof def.axis.labelAngle === 'number') out.tickangle = def.axis.labelAngle;
      if (def && isObject(def.scale) && Array.isArray(def.scale.domain) && def.scale.domain.length === 2 && def.scale.domain.every((d) => typeof d === 'number')) {
        const d = def.scale.domain as number[];
        out.range = type === 'log' ? d.map((v) => Math.log10(v)) : d;
      }
      if (type === 'category') {
        const order = Array.isArray(def?.sort) ? def!.sort : isObject(def?.scale) && Array.isArray(def!.scale!.domain) ? def!.scale!.domain : undefined;
        if (order) Object.assign(out, { categoryorder: 'array', categoryarray: order });
      }
      return out;
    };
    const layout: Json = {
      title: title ? { text: plotlyText(title) } : undefined,
      xaxis: axis(x, 'x'),
      yaxis: axis(y, 'y'),
      hovermode: 'closest',
      // Below the plot: legend labels are long (method names) and would squeeze it from the side.
      legend: { orientation: 'h', x: 0, xanchor: 'left', yref: 'container', y: 0, yanchor: 'bottom' },
      margin: { t: title ? 48 : 16, r: 16, b: 48, l: 64 },
      shapes: this.shapes,
    };
    if (this.barMode) layout.barmode = this.barMode;
    // The legend sits below the plot, one entry per line at worst: grow rather than squeeze the plot.
    const entries = this.traces.filter((t) => t.showlegend !== false).length;
    layout.height = Math.min(1000, 400 + 22 * entries);
    if (!title) delete layout.title;
    return { data: this.traces, layout };
  }

  private convertUnit(u: Unit): void {
    const type = String(u.mark.type);
    const enc = u.encoding;
    const x = channel(enc, 'x');
    const y = channel(enc, 'y');
    for (const def of [x, y]) {
      if (def?.bin) throw new Unsupported('binned encodings are not converted');
      if (def?.timeUnit) throw new Unsupported('timeUnit encodings are not converted');
    }
    if (type === 'rule') return this.convertRule(u);
    if (!['line', 'trail', 'point', 'circle', 'square', 'bar', 'area', 'errorband'].includes(type)) {
      this.notes.push(`mark '${type}' left out of the interactive figure`);
      return;
    }
    if (!x?.field || !y?.field) {
      this.notes.push(`a '${type}' mark without x and y fields left out`);
      return;
    }
    const y2 = channel(enc, 'y2');
    if (type === 'area' || type === 'errorband') {
      if (y2?.field) return this.convertBand(u, x, y, y2.field);
      if (type === 'errorband') {
        this.notes.push('an errorband without y2 left out');
        return;
      }
    }
    this.convertSeries(u, type, x, y);
  }

  /** Fields that split rows into separate traces, and those that name a legend entry. */
  private splitFields(u: Unit): { legend: string[]; detail: string[] } {
    const legend = LEGEND_CHANNELS.map((c) => channel(u.encoding, c)?.field).filter((f): f is string => !!f);
    const d = u.encoding.detail;
    const details = (Array.isArray(d) ? d : d ? [d] : []).map((x) => (isObject(x) ? x.field : undefined)).filter((f): f is string => typeof f === 'string');
    return { legend: [...new Set(legend)], detail: details.filter((f) => !legend.includes(f)) };
  }

  /** Rows of one trace -> sorted x/y arrays, aggregating y (or x) per position when the spec says so or when `by` differs. */
  private points(rows: Row[], x: ChannelDef, y: ChannelDef, aggregateFallback: string | undefined, sortX: boolean): { xs: unknown[]; ys: unknown[] } {
    const valueDef = y.aggregate ? y : x.aggregate ? x : undefined;
    const op = valueDef?.aggregate ?? aggregateFallback;
    let pts: [unknown, unknown][];
    if (op) {
      const vDef = valueDef ?? y;
      const kDef = vDef === y ? x : y;
      const groups = groupBy(rows, (r) => keyOf([r[kDef.field!]]));
      pts = [...groups.values()].map((g) => {
        const k = g[0][kDef.field!];
        const v = aggregateValues(op, g.map((r) => (op === 'count' ? 1 : (r[vDef.field!] as number))));
        return vDef === y ? [k, v] : [v, k];
      });
    } else {
      pts = rows.map((r) => [r[x.field!], r[y.field!]]);
    }
    if (sortX && x.type !== 'nominal' && x.type !== 'ordinal') {
      pts.sort((a, b) => (typeof a[0] === 'number' && typeof b[0] === 'number' ? a[0] - b[0] : String(a[0]).localeCompare(String(b[0]))));
    }
    return { xs: pts.map((p) => toPlotlyValue(p[0])), ys: pts.map((p) => toPlotlyValue(p[1])) };
  }

  private hoverTemplate(x: ChannelDef, y: ChannelDef): string {
    const esc = (s: string) => plotlyText(s).replace(/%/g, '%%').replace(/[{}]/g, '');
    const xt = channelTitle(x) ?? x.field ?? 'x';
    const yt = channelTitle(y) ?? y.field ?? 'y';
    return `%{fullData.name}<br>${esc(xt)}: %{x}<br>${esc(yt)}: %{y}<extra></extra>`;
  }

  private convertSeries(u: Unit, type: string, x: ChannelDef, y: ChannelDef): void {
    const { legend, detail } = this.splitFields(u);
    const hasSeed = u.rows.some((r) => r[SEED_FIELD] !== undefined) && x.field !== SEED_FIELD && y.field !== SEED_FIELD;
    const seeds = hasSeed ? [...new Set(u.rows.map((r) => r[SEED_FIELD]))] : [];
    const perSeed = seeds.length > 1;
    // The spec draws each seed itself when seed is one of its splitting fields.
    const specShowsSeeds = legend.includes(SEED_FIELD) || detail.includes(SEED_FIELD);
    const legendFields = perSeed ? legend.filter((f) => f !== SEED_FIELD) : legend;
    const detailFields = perSeed ? detail.filter((f) => f !== SEED_FIELD) : detail;
    const bar = type === 'bar';
    const horizontal = bar && (x.type === 'quantitative' || !!x.aggregate) && (y.type === 'nominal' || y.type === 'ordinal');
    if (bar) this.barMode = u.encoding.xOffset || u.encoding.yOffset ? 'group' : legendFields.length ? 'stack' : this.barMode;
    const opacity = typeof u.mark.opacity === 'number' ? u.mark.opacity : undefined;
    const withPoints = type === 'line' || type === 'trail' ? !!u.mark.point : false;
    const mode = type === 'line' || type === 'trail' ? (withPoints ? 'lines+markers' : 'lines') : 'markers';
    const sortX = type === 'line' || type === 'trail' || type === 'area';
    const hover = this.hoverTemplate(x, y);

    const groups = groupBy(u.rows, (r) => keyOf([...legendFields, ...detailFields].map((f) => r[f])));
    for (const rows of groups.values()) {
      const name = legendFields.length ? seriesName(legendFields, rows[0]) : titleText(y.title) ?? y.field ?? 'value';
      const style = this.style(u, rows[0]);
      const group = `series:${name}`;
      const showLegend = legendFields.length > 0 && !legendHidden(u) && !this.legendShown.has(`${group}|${type}`);
      this.legendShown.add(`${group}|${type}`);
      const { xs, ys } = this.points(rows, x, y, perSeed ? 'mean' : undefined, sortX);
      const base: PlotlyTrace = bar
        ? { type: 'bar', x: xs, y: ys, orientation: horizontal ? 'h' : 'v', marker: { color: style.color }, hovertemplate: hover }
        : {
            type: 'scatter',
            mode,
            x: xs,
            y: ys,
            line: { color: style.color, dash: style.dash, width: 2 },
            marker: { color: style.color, symbol: style.symbol, size: type === 'point' || type === 'circle' || type === 'square' ? 7 : 5 },
            hovertemplate: hover,
          };
      this.traces.push({
        ...base,
        name: perSeed ? `${name || 'value'} (mean over ${seeds.length} seeds)` : name,
        legendgroup: group,
        showlegend: showLegend || (perSeed && !legendFields.length),
        ...(opacity !== undefined ? { opacity } : {}),
      });
      if (!perSeed) continue;
      const bySeed = groupBy(rows, (r) => keyOf([r[SEED_FIELD]]));
      for (const seedRows of bySeed.values()) {
        const seed = seedRows[0][SEED_FIELD];
        const p = this.points(seedRows, x, y, undefined, sortX);
        this.traces.push({
          type: 'scatter',
          mode: bar ? 'markers' : mode,
          x: p.xs,
          y: p.ys,
          name: `${name ? name + ' · ' : ''}seed ${String(seed)}`,
          legendgroup: `seeds:${name}`,
          legendgrouptitle: { text: `${name ? name + ': ' : ''}per seed` },
          visible: specShowsSeeds ? true : 'legendonly',
          opacity: 0.6,
          line: { color: style.color, dash: style.dash, width: 1 },
          marker: { color: style.color, symbol: style.symbol, size: 5 },
          hovertemplate: hover,
        });
      }
    }
  }

  /** Area between y and y2 per series: one closed polygon, sharing the series' legend group. */
  private convertBand(u: Unit, x: ChannelDef, y: ChannelDef, y2Field: string): void {
    const { legend, detail } = this.splitFields(u);
    const legendFields = legend.filter((f) => f !== SEED_FIELD);
    const groups = groupBy(u.rows, (r) => keyOf([...legendFields, ...detail.filter((f) => f !== SEED_FIELD)].map((f) => r[f])));
    const opacity = typeof u.mark.opacity === 'number' ? u.mark.opacity : 0.3;
    for (const rows of groups.values()) {
      const name = legendFields.length ? seriesName(legendFields, rows[0]) : 'band';
      const style = this.style(u, rows[0]);
      const byX = groupBy(rows, (r) => keyOf([r[x.field!]]));
      const pts = [...byX.values()]
        .map((g) => ({
          x: g[0][x.field!],
          lo: aggregateValues('min', g.map((r) => r[y.field!] as number)),
          hi: aggregateValues('max', g.map((r) => r[y2Field] as number)),
        }))
        .filter((p) => p.lo !== null && p.hi !== null)
        .sort((a, b) => (typeof a.x === 'number' && typeof b.x === 'number' ? a.x - b.x : String(a.x).localeCompare(String(b.x))));
      if (pts.length === 0) continue;
      this.traces.push({
        type: 'scatter',
        mode: 'lines',
        x: [...pts.map((p) => p.x), ...pts.map((p) => p.x).reverse()],
        y: [...pts.map((p) => p.hi), ...pts.map((p) => p.lo).reverse()],
        fill: 'toself',
        fillcolor: hexToRgba(style.color, opacity),
        line: { width: 0, color: style.color },
        name: `${name} (range)`,
        legendgroup: `series:${name}`,
        showlegend: false,
        hoverinfo: 'skip',
      });
    }
  }

  /**
   * Rules: with only y (or only x) a reference line across the plot; with x, y and y2
   * (or y, x and x2) fields, vertical (horizontal) segments such as error bars.
   */
  private convertRule(u: Unit): void {
    const x = channel(u.encoding, 'x');
    const y = channel(u.encoding, 'y');
    const x2 = channel(u.encoding, 'x2');
    const y2 = channel(u.encoding, 'y2');
    if (x?.field && y?.field && (y2?.field || x2?.field)) return this.convertRuleSegments(u, x, y, x2?.field, y2?.field);
    const style = this.style(u, undefined);
    const line = { color: style.color, dash: style.dash === 'solid' ? 'dash' : style.dash, width: 1.5 };
    const values = (def: ChannelDef | undefined): unknown[] => {
      if (!def) return [];
      if (def.datum !== undefined) return [def.datum];
      if (def.field) return [...new Set(u.rows.map((r) => r[def.field!]))];
      return [];
    };
    const xs = values(x);
    const ys = values(y);
    if (ys.length && !xs.length) for (const v of ys) this.shapes.push({ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y', y0: v, y1: v, line });
    else if (xs.length && !ys.length) for (const v of xs) this.shapes.push({ type: 'line', yref: 'paper', y0: 0, y1: 1, xref: 'x', x0: v, x1: v, line });
    else this.notes.push('a rule mark left out');
  }

  /** One trace per series: segments joined by nulls (Plotly breaks a line at a null). */
  private convertRuleSegments(u: Unit, x: ChannelDef, y: ChannelDef, x2Field: string | undefined, y2Field: string | undefined): void {
    const { legend, detail } = this.splitFields(u);
    const groups = groupBy(u.rows, (r) => keyOf([...legend, ...detail].map((f) => r[f])));
    const colorDef = channel(u.encoding, 'color');
    for (const rows of groups.values()) {
      const name = legend.length ? seriesName(legend, rows[0]) : '';
      // Vega-Lite draws an unencoded rule black-ish; keep error bars neutral unless coloured.
      const color = colorDef?.field || colorDef?.value || u.mark.color ? this.style(u, rows[0]).color : '#333333';
      const xs: unknown[] = [];
      const ys: unknown[] = [];
      for (const r of rows) {
        xs.push(toPlotlyValue(r[x.field!]), toPlotlyValue(x2Field ? r[x2Field] : r[x.field!]), null);
        ys.push(toPlotlyValue(r[y.field!]), toPlotlyValue(y2Field ? r[y2Field] : r[y.field!]), null);
      }
      this.traces.push({
        type: 'scatter',
        mode: 'lines',
        x: xs,
        y: ys,
        name: name ? `${name} (range)` : 'range',
        legendgroup: `series:${name}`,
        showlegend: false,
        line: { color, width: 1.5 },
        hovertemplate: this.hoverTemplate(x, y),
      });
    }
  }
}
