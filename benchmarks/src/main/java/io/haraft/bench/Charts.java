package io.haraft.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG charts (JFreeChart, headless). Cells that are not numbers (unavailable rows) are skipped. */
final class Charts {

    private Charts() {
    }

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Grouped bars: one group per row label, one bar per value column. */
    static void bars(Path png, String title, String valueAxis, Table t, List<Integer> labelColumns,
            List<Integer> valueColumns) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (List<String> row : t.rows()) {
            StringBuilder label = new StringBuilder();
            for (int c : labelColumns) {
                label.append(label.length() == 0 ? "" : " / ").append(row.get(c));
            }
            for (int c : valueColumns) {
                Double v = number(row.get(c));
                if (v != null) {
                    data.addValue(v, t.columns().get(c), label.toString());
                }
            }
        }
        JFreeChart chart = ChartFactory.createBarChart(title, null, valueAxis, data,
                PlotOrientation.HORIZONTAL, true, false, false);
        int height = Math.max(300, 60 + 28 * Math.max(1, data.getColumnCount()) * Math.max(1, valueColumns.size()));
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, Math.min(height, 2400));
    }

    /** One line per system: x from {@code xColumn} (log scale), y from {@code yColumn}. */
    static void lines(Path png, String title, String xAxis, String yAxis, Table t, int seriesColumn, int xColumn,
            int yColumn) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (List<String> row : t.rows()) {
            Double x = number(row.get(xColumn));
            Double y = number(row.get(yColumn));
            if (x == null || y == null) {
                continue;
            }
            XYSeries s;
            int i = data.getSeriesIndex(row.get(seriesColumn));
            if (i < 0) {
                s = new XYSeries(row.get(seriesColumn));
                data.addSeries(s);
            } else {
                s = data.getSeries(i);
            }
            s.add(x, y);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xAxis, yAxis, data,
                PlotOrientation.VERTICAL, true, false, false);
        LogAxis log = new LogAxis(xAxis);
        log.setBase(2);
        log.setSmallestValue(1);
        chart.getXYPlot().setDomainAxis(log);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 600);
    }

    static Double number(String s) {
        try {
            return Double.valueOf(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
