/**
 * The ops console's "Traffic" section: per service, one chart of requests and errors per second
 * (left axis) and p99 latency (right axis) over the last 15 minutes, with the latest values in words.
 */
import type { OpsPoint, OpsSeries } from '@bazaar/contracts';
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { Chart, type ChartOptions } from '../../components/Chart.tsx';
import { Empty, ErrorNote, Loading } from '../../components/ui.tsx';
import { errorSentence } from '../../lib/api.ts';
import { useOpsMetrics } from '../../lib/ops.ts';
import { describePoint } from '../../lib/ops-text.ts';

const WINDOW_SECONDS = 900;

// The stylesheet's colours (a canvas cannot read CSS variables).
const ACCENT = '#0b5cad';
const BAD = '#b3261e';
const WARN = '#8a5300';
const MUTED = '#555b66';
const GRID = '#e6e8ec';

/** The charts of every service that has a traffic series, refreshed every 5 s. */
export function TrafficSection() {
  const metrics = useOpsMetrics(WINDOW_SECONDS);
  if (!metrics.data) {
    if (metrics.error) return <ErrorNote error={metrics.error} retry={() => void metrics.refetch()} />;
    return <Loading label="Loading traffic…" />;
  }
  const series = metrics.data.items;
  return (
    <>
      {metrics.error && (
        <p className="muted fine-print">
          The figures could not be refreshed ({errorSentence(metrics.error)}); these are the last ones.
        </p>
      )}
      {series.length === 0 ? (
        <Empty>No traffic has been measured yet.</Empty>
      ) : (
        <div className="charts">
          {series.map((s) => (
            <ServiceTraffic key={s.service} series={s} />
          ))}
        </div>
      )}
    </>
  );
}

function ServiceTraffic({ series }: { series: OpsSeries }) {
  const options = useMemo(trafficOptions, []);
  const data = useMemo(() => aligned(series.points), [series.points]);
  const last = series.points.at(-1);
  return (
    <figure className="chart traffic">
      <figcaption>{series.service}: requests per second, errors and p99 latency</figcaption>
      <Chart options={options} data={data} />
      <p className="chart-summary">{last ? `Latest: ${describePoint(last)}` : 'No measurements yet.'}</p>
    </figure>
  );
}

/** The points as uPlot's columns: time in seconds, requests/s, errors/s, p99 in ms. */
function aligned(points: OpsPoint[]): uPlot.AlignedData {
  return [
    points.map((p) => Date.parse(p.at) / 1000),
    points.map((p) => p.requestRate),
    points.map((p) => p.requestRate * p.errorRate),
    points.map((p) => p.p99Ms),
  ];
}

/** From zero to a little above the highest value (1 when there is nothing to show). */
function fromZero(_u: uPlot, _min: number | null, max: number | null): uPlot.Range.MinMax {
  return [0, max && max > 0 ? max * 1.1 : 1];
}

function fixed(digits: number) {
  return (_u: uPlot, value: number | null) => (value === null ? '—' : value.toFixed(digits));
}

/** A fresh options object per chart (uPlot keeps state in the objects it is given). */
function trafficOptions(): ChartOptions {
  return {
    scales: { x: { time: true }, rate: { range: fromZero }, ms: { range: fromZero } },
    series: [
      {},
      {
        label: 'Requests/s',
        scale: 'rate',
        stroke: ACCENT,
        fill: 'rgba(11, 92, 173, 0.08)',
        width: 2,
        value: fixed(1),
      },
      { label: 'Errors/s', scale: 'rate', stroke: BAD, width: 2, value: fixed(2) },
      { label: 'p99 (ms)', scale: 'ms', stroke: WARN, width: 1.5, dash: [6, 4], value: fixed(0) },
    ],
    axes: [
      { stroke: MUTED, space: 70, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } },
      {
        scale: 'rate',
        stroke: MUTED,
        grid: { stroke: GRID, width: 1 },
        ticks: { stroke: GRID, width: 1 },
        size: 44,
      },
      {
        scale: 'ms',
        side: 1,
        stroke: WARN,
        grid: { show: false },
        size: 64,
        values: (_u, splits) => splits.map((v) => `${v} ms`),
      },
    ],
    cursor: { drag: { x: false, y: false } },
  };
}
