/**
 * Chart builders every paper's figures use: one definition gives the static figure
 * (SVG/PNG through lib/figures/render.ts) and the interactive one (report.html and the
 * notebooks embed the same Vega-Lite spec with vega-embed): hover a point for its values,
 * click a legend entry to bring that series forward (shift-click for several).
 * Typed against vega-lite's TopLevelSpec with no casts, so a wrong channel or mark is a
 * compile error, not a blank figure.
 */
import { VEGA_LITE_SCHEMA, type VegaLiteSpec } from './types';

/** The selection a legend click drives; faded series keep this opacity. */
const PICK = 'pick';
const FADED = 0.12;

export type ScaleKind = 'linear' | 'log' | 'log2' | 'symlog';

export interface Axis {
  field: string;
  title: string;
  /** Default linear; 'log2' also puts a tick at every data value (representation sizes). */
  scale?: ScaleKind;
  /** Include zero in a linear scale (default false: the data range). */
  zero?: boolean;
  /** Tick values to show (e.g. the sizes on a log2 axis). */
  ticks?: number[];
}

export interface Series {
  field: string;
  /** Legend (and colour) order. */
  order?: string[];
  /** Legend columns at the bottom of the chart (default 1). */
  columns?: number;
}

function scaleOf(a: Axis) {
  switch (a.scale) {
    case 'log':
      return { type: 'log' as const };
    case 'log2':
      return { type: 'log' as const, base: 2 };
    case 'symlog':
      return { type: 'symlog' as const, constant: 1e-4 };
    default:
      return { zero: a.zero ?? false };
  }
}

function quantitative(a: Axis, field = a.field) {
  return { field, type: 'quantitative' as const, title: a.title, scale: scaleOf(a), ...(a.ticks ? { axis: { values: a.ticks } } : {}) };
}

function colour(s: Series) {
  return { field: s.field, type: 'nominal' as const, title: null, sort: s.order, legend: { orient: 'bottom' as const, columns: s.columns ?? 1, labelLimit: 360 } };
}

/** Series picked in the legend stay opaque, the others fade; nothing picked = all opaque. */
function pickedOpacity(base = 1) {
  return { condition: { param: PICK, value: base }, value: FADED * base };
}

function legendPick(s: Series) {
  return [{ name: PICK, select: { type: 'point' as const, fields: [s.field] }, bind: 'legend' as const }];
}

/**
 * Hover fields: numbers with 4 significant digits, anything else as it is (a number format
 * on a name shows NaN). The type is read from the data, since extra fields can be either.
 */
function tooltips(fields: string[], rows: object[]) {
  const numeric = (field: string) => field !== 'seed' && rows.some((r) => typeof (r as Record<string, unknown>)[field] === 'number');
  return fields.map((field) => (numeric(field) ? { field, type: 'quantitative' as const, format: '.4~g' } : { field, type: 'nominal' as const }));
}

export interface LineChartOptions {
  title: string;
  rows: object[];
  x: Axis;
  y: Axis;
  /** One colour (and legend entry) per value of this field. */
  color: Series;
  /** A shaded band between these fields (e.g. min..max or a confidence interval over seeds). */
  band?: { lo: string; hi: string };
  /** Stroke dash per value of this field (a second, independent legend). */
  dash?: Series;
  /** One line per value of this field within a colour (e.g. 'seed': per-seed curves). */
  detail?: string;
  /** Draw a point at each measurement (default true). */
  points?: boolean;
  /** Extra fields shown on hover (x, y and the series are always shown). */
  tooltip?: string[];
  width?: number;
  height?: number;
}

/** Lines over x per series, optionally with a band, dashes or per-seed detail lines. */
export function lineChart(o: LineChartOptions): VegaLiteSpec {
  const x = quantitative(o.x);
  const color = colour(o.color);
  const dash = o.dash ? { strokeDash: { field: o.dash.field, type: 'nominal' as const, title: null, sort: o.dash.order, legend: { orient: 'bottom' as const, labelLimit: 300 } } } : {};
  const detail = o.detail ? { detail: { field: o.detail, type: 'nominal' as const } } : {};
  const hover = tooltips([o.color.field, ...(o.dash ? [o.dash.field] : []), ...(o.detail ? [o.detail] : []), o.x.field, o.y.field, ...(o.band ? [o.band.lo, o.band.hi] : []), ...(o.tooltip ?? [])], o.rows);
  const line = {
    params: legendPick(o.color),
    mark: { type: 'line' as const, point: o.points ?? true },
    encoding: { x, y: quantitative(o.y), color, opacity: pickedOpacity(), tooltip: hover, ...dash, ...detail },
  };
  const size = { width: o.width ?? 480, height: o.height ?? 300 };
  if (!o.band) return { $schema: VEGA_LITE_SCHEMA, title: o.title, ...size, data: { values: o.rows }, ...line };
  const band = {
    mark: { type: 'area' as const, opacity: 0.18 },
    // `fill` (same field, order and palette) rather than `color`, with no legend of its own: the
    // legend then belongs to the line layer alone, which is what vega needs to bind it to the selection.
    encoding: { x, y: quantitative(o.y, o.band.lo), y2: { field: o.band.hi }, fill: { ...color, legend: null }, opacity: pickedOpacity(0.18), ...detail },
  };
  return { $schema: VEGA_LITE_SCHEMA, title: o.title, ...size, data: { values: o.rows }, layer: [band, line] };
}

export interface BarChartOptions {
  title: string;
  rows: object[];
  /** The category axis. */
  x: { field: string; title: string | null; order?: string[]; labelAngle?: number; ordinal?: boolean };
  y: Axis;
  /** Colour per value of this field; with `group`, bars of one x stand side by side per colour. */
  color?: Series & { legend?: boolean };
  group?: boolean;
  /** An error bar between these fields (e.g. min..max over seeds). */
  errorBar?: { lo: string; hi: string };
  tooltip?: string[];
  width?: number;
  height?: number;
}

/** Bars per category, optionally coloured, grouped and with error bars. */
export function barChart(o: BarChartOptions): VegaLiteSpec {
  const x = { field: o.x.field, type: o.x.ordinal ? ('ordinal' as const) : ('nominal' as const), title: o.x.title, sort: o.x.order, ...(o.x.labelAngle !== undefined ? { axis: { labelAngle: o.x.labelAngle } } : {}) };
  const yAxis: Axis = { zero: true, ...o.y };
  const y = quantitative(yAxis);
  const color = o.color ? { color: o.color.legend === false ? { ...colour(o.color), legend: null } : colour(o.color) } : {};
  const offset = o.color && o.group ? { xOffset: { field: o.color.field, type: 'nominal' as const, sort: o.color.order } } : {};
  const pick = o.color && o.color.legend !== false ? { params: legendPick(o.color) } : {};
  const opacity = o.color && o.color.legend !== false ? { opacity: pickedOpacity() } : {};
  const hover = tooltips([o.x.field, ...(o.color ? [o.color.field] : []), o.y.field, ...(o.errorBar ? [o.errorBar.lo, o.errorBar.hi] : []), ...(o.tooltip ?? [])], o.rows);
  const bars = { ...pick, mark: { type: 'bar' as const }, encoding: { x, y, ...color, ...offset, ...opacity, tooltip: hover } };
  const size = { width: o.width ?? 480, height: o.height ?? 300 };
  if (!o.errorBar) return { $schema: VEGA_LITE_SCHEMA, title: o.title, ...size, data: { values: o.rows }, ...bars };
  const rule = { mark: { type: 'rule' as const }, encoding: { x, y: quantitative(yAxis, o.errorBar.lo), y2: { field: o.errorBar.hi }, ...offset } };
  return { $schema: VEGA_LITE_SCHEMA, title: o.title, ...size, data: { values: o.rows }, layer: [bars, rule] };
}
