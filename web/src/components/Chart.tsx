/**
 * A uPlot chart as a React component: drawn into a box as wide as its container, re-sized when
 * the container (or the window) changes width, given new data without being rebuilt, and
 * destroyed on unmount. The canvas says nothing to assistive technology, so the caller gives the
 * numbers in words next to it.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** uPlot's options without the size, which the chart takes from its container. */
export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

/** One uPlot chart, as wide as its container; `options` must keep its identity between renders. */
export function Chart({
  options,
  data,
  height = 180,
}: {
  /** Keep the same object between renders (useMemo): new options rebuild the chart. */
  options: ChartOptions;
  data: uPlot.AlignedData;
  /** Height of the plot in CSS pixels (the legend comes below it). */
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const chart = new uPlot({ ...options, width: widthOf(element), height }, latest.current, element);
    plot.current = chart;
    const resize = () => {
      const width = widthOf(element);
      if (width !== chart.width) chart.setSize({ width, height });
    };
    const observer = new ResizeObserver(resize);
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    latest.current = data;
    plot.current?.setData(data);
  }, [data]);

  return <div ref={box} className="chart-canvas" aria-hidden="true" />;
}

function widthOf(element: HTMLElement): number {
  return Math.max(200, Math.floor(element.getBoundingClientRect().width));
}
