// Small charts in plain SVG/CSS (no chart library: the bundle stays small and works offline). Every chart
// has its numbers in a table under "Data" for screen readers and for anyone who wants the exact values.

import type { ReactNode } from "react";
import type { FaithfulnessPoint, StepLatency } from "../lib/stats";
import { formatMs, formatScore, formatTime } from "../lib/format";

function DataTable({ head, rows }: { head: string[]; rows: ReactNode[][] }) {
  return (
    <details className="chart-data">
      <summary>Data</summary>
      <table>
        <thead>
          <tr>
            {head.map((cell) => (
              <th key={cell} scope="col">
                {cell}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              {row.map((cell, column) => (column === 0 ? <th key={column} scope="row">{cell}</th> : <td key={column}>{cell}</td>))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export interface Bar {
  label: string;
  value: number;
  tone?: string;
}

export function BarChart({ title, bars, empty }: { title: string; bars: Bar[]; empty: string }) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const total = bars.reduce((sum, bar) => sum + bar.value, 0);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {total === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <div className="bars" aria-hidden="true">
          {bars.map((bar) => (
            <div key={bar.label} className="bar-row">
              <span className="bar-label">{bar.label}</span>
              <span className="bar-track">
                <span
                  className={`bar-value ${bar.tone ? `tone-${bar.tone}` : ""}`}
                  style={{ width: `${(bar.value / max) * 100}%` }}
                />
              </span>
              <span className="bar-number">
                {bar.value} <span className="muted">({Math.round((bar.value / total) * 100)}%)</span>
              </span>
            </div>
          ))}
        </div>
      )}
      <DataTable head={["", "jobs", "share"]} rows={bars.map((bar) => [bar.label, bar.value, total ? `${Math.round((bar.value / total) * 100)}%` : "—"])} />
    </figure>
  );
}

export function LatencyChart({ latencies }: { latencies: StepLatency[] }) {
  const max = Math.max(1, ...latencies.map((latency) => latency.p95));
  return (
    <figure className="chart">
      <figcaption>Step latency, p50 and p95</figcaption>
      {latencies.length === 0 ? (
        <p className="muted">No finished steps yet.</p>
      ) : (
        <div className="bars" aria-hidden="true">
          {latencies.map((latency) => (
            <div key={latency.step} className="bar-row bar-row-pair">
              <span className="bar-label">{latency.step}</span>
              <span className="bar-track">
                <span className="bar-value tone-p50" style={{ width: `${(latency.p50 / max) * 100}%` }} />
                <span className="bar-value tone-p95" style={{ width: `${(latency.p95 / max) * 100}%` }} />
              </span>
              <span className="bar-number">
                {formatMs(latency.p50)} / {formatMs(latency.p95)}
              </span>
            </div>
          ))}
          <p className="legend small">
            <span className="swatch tone-p50" /> p50 <span className="swatch tone-p95" /> p95
          </p>
        </div>
      )}
      <DataTable
        head={["step", "p50", "p95", "samples"]}
        rows={latencies.map((latency) => [latency.step, formatMs(latency.p50), formatMs(latency.p95), latency.count])}
      />
    </figure>
  );
}

export function FaithfulnessChart({ points }: { points: FaithfulnessPoint[] }) {
  const width = 600;
  const height = 180;
  const pad = { left: 36, right: 12, top: 10, bottom: 24 };
  const first = points[0]?.time ?? 0;
  const last = points[points.length - 1]?.time ?? 1;
  const span = Math.max(1, last - first);
  const x = (time: number) =>
    points.length === 1 ? (pad.left + width - pad.right) / 2 : pad.left + ((time - first) / span) * (width - pad.left - pad.right);
  const y = (value: number) => pad.top + (1 - value) * (height - pad.top - pad.bottom);
  const line = points.map((point) => `${x(point.time).toFixed(1)},${y(point.value).toFixed(1)}`).join(" ");
  const mean = points.length ? points.reduce((sum, point) => sum + point.value, 0) / points.length : null;
  return (
    <figure className="chart">
      <figcaption>
        Faithfulness over time{mean !== null ? <span className="muted"> (mean {formatScore(mean)})</span> : null}
      </figcaption>
      {points.length === 0 ? (
        <p className="muted">No evaluated answers yet.</p>
      ) : (
        <svg viewBox={`0 0 ${width} ${height}`} className="line-chart" aria-hidden="true">
          {[0, 0.5, 1].map((tick) => (
            <g key={tick}>
              <line x1={pad.left} x2={width - pad.right} y1={y(tick)} y2={y(tick)} className="grid" />
              <text x={pad.left - 6} y={y(tick) + 4} textAnchor="end" className="axis">
                {tick.toFixed(1)}
              </text>
            </g>
          ))}
          <polyline points={line} className="series" />
          {points.map((point) => (
            <circle key={point.jobId} cx={x(point.time)} cy={y(point.value)} r={3.5} className="point" />
          ))}
          <text x={pad.left} y={height - 6} className="axis">
            {new Date(first).toLocaleTimeString()}
          </text>
          <text x={width - pad.right} y={height - 6} textAnchor="end" className="axis">
            {new Date(last).toLocaleTimeString()}
          </text>
        </svg>
      )}
      <DataTable
        head={["time", "faithfulness", "job"]}
        rows={points.map((point) => [formatTime(new Date(point.time).toISOString()), formatScore(point.value), point.jobId])}
      />
    </figure>
  );
}
