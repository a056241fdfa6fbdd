// A uPlot line chart that fits its container, with optional labelled horizontal lines
// (thresholds).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Line {
  label: string;
  color?: string;
  /** Values are formatted with this in the legend and axis. */
  format?: (v: number) => string;
  /** A second y axis, on the right. */
  right?: boolean;
}

export interface Threshold {
  value: number;
  label: string;
  color?: string;
  /** Widen the y axis to show it (default); otherwise drawn only when the data's range reaches it. */
  keepInView?: boolean;
}

export interface ChartProps {
  x: number[];
  ys: (number | null)[][];
  lines: Line[];
  /** x values are unix seconds (a time axis) rather than plain numbers. */
  time?: boolean;
  /** Names x in the legend and, unless `compact`, under the axis. */
  xLabel?: string;
  /** No axis title: for small charts side by side. */
  compact?: boolean;
  xFormat?: (v: number) => string;
  logY?: boolean;
  /** The y axis starts here at most (e.g. 0 for a percentage). */
  yMin?: number;
  thresholds?: Threshold[];
  height?: number;
  testid?: string;
}

function data(props: ChartProps): uPlot.AlignedData {
  return [props.x, ...props.ys] as uPlot.AlignedData;
}

function last(values: (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] != null) return values[i];
  return null;
}

const PALETTE = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2"];

/**
 * The plot is made once for its shape (lines, scales, size) and then only given new data, so a
 * live page's refresh keeps the cursor and legend; its callbacks read the latest props.
 */
export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const hasData = props.x.length > 0;
  const shape = [
    props.lines.map((l) => `${l.label}/${l.right ?? false}/${l.color ?? ""}`).join(","),
    props.time,
    props.logY,
    props.height,
    props.compact,
    props.xLabel,
  ].join("|");

  useEffect(() => {
    const el = box.current;
    if (!el || !hasData) return;
    const p = () => latest.current;
    const height = p().height ?? 220;
    const fmt = (line: Line | undefined) => (v: number | null) =>
      v == null ? "—" : line?.format ? line.format(v) : String(v);
    const hasRight = p().lines.some((l) => l.right);
    const thresholds = () => p().thresholds ?? [];

    const yRange = (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => {
      // keep thresholds in view
      for (const t of thresholds()) {
        if (t.keepInView === false) continue;
        min = Math.min(min, t.value);
        max = Math.max(max, t.value);
      }
      const { logY, yMin } = p();
      if (logY) return [min, max];
      if (yMin !== undefined) {
        min = Math.min(min, yMin);
        max = Math.max(max, min + 1);
      }
      // at least ±1% of the values, so noise in a flat series stays flat
      const pad = Math.max((max - min) * 0.08, Math.abs(max) * 0.01) || 1;
      return [yMin !== undefined && min >= yMin ? min : min - pad, max + pad];
    };

    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: !!p().time },
        y: p().logY ? { distr: 3, range: yRange } : { range: yRange },
        ...(hasRight ? { y2: {} } : {}),
      },
      axes: [
        {
          label: p().compact ? undefined : p().xLabel,
          values: p().xFormat
            ? (_u, vals) => vals.map((v) => p().xFormat!(v))
            : p().time
              ? (_u, vals) => vals.map((v) => new Date(v * 1000).toLocaleTimeString())
              : undefined,
          space: p().time ? 90 : 50,
          stroke: "#64748b",
          grid: { stroke: "#e2e8f0" },
        },
        {
          // On a log scale uPlot places a split at every 1–9 × 10ⁿ; label only the powers of ten.
          values: (_u, vals) =>
            vals.map((v) => (p().logY && !isPowerOfTen(v) ? "" : fmt(p().lines.find((l) => !l.right))(v))),
          stroke: "#64748b",
          grid: { stroke: "#e2e8f0" },
          size: 80,
        },
        ...(hasRight
          ? [
              {
                scale: "y2",
                side: 1,
                values: (_u: uPlot, vals: number[]) => vals.map((v) => fmt(p().lines.find((l) => l.right))(v)),
                stroke: "#64748b",
                grid: { show: false },
                size: 70,
              } as uPlot.Axis,
            ]
          : []),
      ],
      series: [
        {
          label: p().xLabel ?? (p().time ? "time" : "x"),
          // Away from the cursor, the legend shows the latest point.
          value: (_u, v, _s, idx) => {
            const { x: xs, xFormat, time } = p();
            const x = idx == null ? xs[xs.length - 1] : v;
            if (x == null) return "—";
            return xFormat ? xFormat(x) : time ? new Date(x * 1000).toLocaleString() : String(x);
          },
        },
        ...p().lines.map((line, i) => ({
          label: line.label,
          stroke: line.color ?? PALETTE[i % PALETTE.length],
          width: 2,
          scale: line.right ? "y2" : "y",
          value: (_u: uPlot, v: number | null, _s: number, idx: number | null) =>
            fmt(line)(idx == null ? last(p().ys[i]) : v),
          spanGaps: true,
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            for (const t of thresholds()) {
              const range = u.scales.y;
              if (range.min == null || range.max == null || t.value < range.min || t.value > range.max) continue;
              const y = u.valToPos(t.value, "y", true);
              ctx.save();
              ctx.strokeStyle = t.color ?? "#dc2626";
              ctx.setLineDash([6, 4]);
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.setLineDash([]);
              ctx.fillStyle = t.color ?? "#dc2626";
              ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
              ctx.textAlign = "right";
              // below the line when there is room (the data often runs just above a threshold)
              const below = y + 16 * devicePixelRatio < u.bbox.top + u.bbox.height;
              ctx.fillText(
                t.label,
                u.bbox.left + u.bbox.width - 4,
                below ? y + 13 * devicePixelRatio : y - 4 * devicePixelRatio,
              );
              ctx.restore();
            }
          },
        ],
      },
    };
    const made = new uPlot(opts, data(props), el);
    plot.current = made;
    const resize = new ResizeObserver(() => made.setSize({ width: Math.max(el.clientWidth, 200), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      made.destroy();
      plot.current = null;
    };
  }, [shape, hasData]);

  useEffect(() => {
    plot.current?.setData(data(props));
  });

  if (props.x.length === 0) return <p class="muted">No data yet.</p>;
  return <div class="chart" ref={box} data-testid={props.testid} />;
}

function isPowerOfTen(v: number): boolean {
  if (!(v > 0)) return false;
  const exponent = Math.log10(v);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9;
}
