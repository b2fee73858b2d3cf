package io.mfserve.client.cli;

import io.mfserve.client.Factors;
import io.mfserve.proto.v1.ModelInfo;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The charts of {@code mfctl plot}, drawn with XChart and written as PNG. Rendering needs no
 * display: callers set {@code java.awt.headless=true} before the first chart.
 */
final class Charts {
  private static final Color LOSS = new Color(31, 119, 180);
  private static final Color VALIDATION = new Color(214, 39, 40);
  private static final Color POINTS = new Color(31, 119, 180, 110);
  private static final Color LABELLED = new Color(255, 127, 14);
  /** Above this many iterations the curves are lines without markers. */
  private static final int MARKERS_UP_TO = 60;

  private Charts() {}

  /**
   * The training loss per iteration and, when the model has one, the validation RMSE per
   * iteration on a second y axis at the right. A loss spanning more than two decades goes on a
   * logarithmic axis.
   *
   * @throws InputFiles.InputException if the model has no training loss
   */
  static XYChart loss(ModelInfo m, int width, int height) {
    int n = m.getTrainingLossCount();
    if (n == 0) {
      throw new InputFiles.InputException("model " + m.getModelId() + " has no training loss "
          + "per iteration to plot (its solver reported none)");
    }
    boolean validation = m.getValidationRmseCount() > 0;
    XYChart chart = new XYChartBuilder().width(width).height(height)
        .title("Training curve of model " + m.getModelId() + " (" + m.getSolver() + ", "
            + m.getNumFactors() + " factors)")
        .xAxisTitle("iteration").yAxisTitle("training loss (solver objective)").build();
    XYStyler s = style(chart, width);
    s.setLegendPosition(Styler.LegendPosition.OutsideS);
    s.setLegendLayout(Styler.LegendLayout.Horizontal);
    s.setxAxisTickLabelsFormattingFunction(Charts::integerTick);
    double[] x = IntStream.rangeClosed(1, n).asDoubleStream().toArray();
    double[] loss = m.getTrainingLossList().stream().mapToDouble(Double::doubleValue).toArray();
    double min = Double.POSITIVE_INFINITY;
    double max = 0;
    for (double v : loss) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    boolean log = min > 0 && max / min > 100;
    s.setYAxisLogarithmic(log);
    XYSeries lossSeries = chart.addSeries("training loss" + (log ? " (log scale)" : ""), x, loss);
    line(lossSeries, LOSS, n);
    if (n == 1) {
      // One point: axes from the value to itself would have no ticks.
      s.setXAxisMin(0.0).setXAxisMax(2.0);
      double pad = loss[0] == 0 ? 1 : Math.abs(loss[0]) * 0.1;
      s.setYAxisMin(0, loss[0] - pad).setYAxisMax(0, loss[0] + pad);
      s.setYAxisDecimalPattern("#,##0.####");
    }
    if (validation) {
      int v = m.getValidationRmseCount();
      double[] vx = IntStream.rangeClosed(1, v).asDoubleStream().toArray();
      double[] rmse = m.getValidationRmseList().stream().mapToDouble(Double::doubleValue)
          .toArray();
      XYSeries series = chart.addSeries("validation RMSE (" + Fmt.count(
          m.getNumValidationEntries()) + " held-out entries, right axis)", vx, rmse);
      series.setYAxisGroup(1);
      line(series, VALIDATION, v);
      chart.setYAxisGroupTitle(1, "validation RMSE");
      s.setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
      // Each axis in its curve's colour, so that the two scales cannot be mixed up.
      s.setYAxisGroupTitleColor(0, LOSS);
      s.setYAxisGroupTickLabelsColorMap(0, LOSS);
      s.setYAxisGroupTitleColor(1, VALIDATION);
      s.setYAxisGroupTickLabelsColorMap(1, VALIDATION);
      if (v <= MARKERS_UP_TO) {
        series.setMarker(SeriesMarkers.DIAMOND);
      }
    }
    return chart;
  }

  /**
   * The items as points in the plane of the first two principal components of their factors,
   * the {@code labels} items farthest from the centre drawn in a second colour and labelled
   * with their ids or keys.
   *
   * @param f the model's factors
   * @param labels how many items to label, 0 for none
   */
  static XYChart embedding(Factors f, int labels, int width, int height) {
    int n = f.numItems();
    int k = f.numFactors();
    if (n == 0 || k == 0) {
      throw new InputFiles.InputException("model " + f.modelId()
          + " has no item factors to plot");
    }
    float[] rows = f.itemFactorsFlat();
    Pca pca = Pca.fit(rows, n, k);
    double[][] xy = pca.project(rows, n, 2);
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = xy[i][0];
      y[i] = xy[i][1];
    }
    XYChart chart = new XYChartBuilder().width(width).height(height)
        .title("Items of model " + f.modelId() + " by the first two principal components of "
            + "their " + k + " factors")
        .xAxisTitle(axis(pca, 0)).yAxisTitle(axis(pca, 1)).build();
    XYStyler s = style(chart, width);
    s.setDefaultSeriesRenderStyle(XYSeriesRenderStyle.Scatter);
    s.setLegendPosition(Styler.LegendPosition.OutsideS);
    s.setLegendLayout(Styler.LegendLayout.Horizontal);
    s.setMarkerSize(n > 20_000 ? 3 : n > 2_000 ? 4 : 6);
    s.setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    s.setAnnotationTextFontColor(new Color(60, 60, 60));
    XYSeries all = chart.addSeries(Fmt.count(n) + (n == 1 ? " item" : " items"), x, y);
    all.setMarker(SeriesMarkers.CIRCLE).setMarkerColor(POINTS);
    // The plot area is the chart less its title, axes and legend: about this many pixels.
    double pxPerX = (width - 140) / Math.max(range(x), 1e-12);
    double pxPerY = (height - 150) / Math.max(range(y), 1e-12);
    List<Label> placed = labels(x, y, f::itemName, labels, pxPerX, pxPerY);
    if (!placed.isEmpty()) {
      double[] lx = new double[placed.size()];
      double[] ly = new double[placed.size()];
      for (int j = 0; j < placed.size(); j++) {
        lx[j] = x[placed.get(j).item];
        ly[j] = y[placed.get(j).item];
      }
      XYSeries marked = chart.addSeries(placed.size() == n ? "labelled: every item"
          : "labelled: " + placed.size() + " of the outermost (+N: that many more at the point)",
          lx, ly);
      marked.setMarker(SeriesMarkers.CIRCLE).setMarkerColor(LABELLED);
      double lift = LABEL_LIFT_PX / pxPerY;
      for (Label l : placed) {
        chart.addAnnotation(new AnnotationText(l.text, x[l.item], y[l.item] + lift, false));
      }
      // Room above the top point for its label.
      s.setYAxisMax(max(y) + 2.5 * lift);
    }
    if (range(x) == 0) {
      s.setXAxisMin(x[0] - 1).setXAxisMax(x[0] + 1);
    } else if (!placed.isEmpty()) {
      // Room at the sides for the labels of the outermost points.
      double pad = 0.05 * range(x);
      s.setXAxisMin(min(x) - pad).setXAxisMax(max(x) + pad);
    }
    if (range(y) == 0) {
      s.setYAxisMin(y[0] - 1).setYAxisMax(y[0] + 1);
    }
    return chart;
  }

  /** Writes a chart as PNG to exactly this path (XChart's own save would add ".png"). */
  static void writePng(XYChart chart, Path file) throws IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
    } catch (NoSuchFileException e) {
      throw new InputFiles.InputException("cannot write " + file + ": no such directory");
    } catch (AccessDeniedException e) {
      throw new InputFiles.InputException("cannot write " + file + ": permission denied");
    }
  }

  private static XYStyler style(XYChart chart, int width) {
    XYStyler s = chart.getStyler();
    // A long title (a long model id, a narrow chart) gets a smaller font rather than cut off:
    // bold 16 pt sans takes about 0.62 em per character.
    int titleSize = (int) Math.max(9, Math.min(16,
        (width - 30) / (0.62 * Math.max(1, chart.getTitle().length()))));
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBackgroundColor(Color.WHITE);
    s.setPlotBorderColor(new Color(180, 180, 180));
    s.setPlotGridLinesColor(new Color(230, 230, 230));
    s.setLegendBorderColor(Color.WHITE);
    s.setChartTitleBoxVisible(false);
    s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, titleSize));
    s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    s.setLocale(Locale.ROOT);
    s.setAntiAlias(true);
    return s;
  }

  private static void line(XYSeries series, Color color, int points) {
    series.setLineColor(color).setLineStyle(new BasicStroke(2f));
    if (points <= MARKERS_UP_TO) {
      series.setMarker(SeriesMarkers.CIRCLE).setMarkerColor(color);
    } else {
      series.setMarker(SeriesMarkers.NONE);
    }
  }

  private static String axis(Pca pca, int c) {
    if (c >= pca.dimensions()) {
      return "PC" + (c + 1) + " (none: the model has " + pca.dimensions() + " factor)";
    }
    return String.format(Locale.ROOT, "PC%d (%.1f%% of the variance)", c + 1,
        100 * pca.explained(c));
  }

  /** Integer iteration numbers only: the ticks between them get no label. */
  private static String integerTick(Double v) {
    return Math.abs(v - Math.rint(v)) < 1e-9 ? Long.toString(Math.round(v)) : "";
  }

  /** Pixels between a point and the middle of its label, which sits above it. */
  private static final double LABEL_LIFT_PX = 11;
  private static final double LABEL_HEIGHT_PX = 14;
  private static final double CHAR_WIDTH_PX = 6.8;
  /** Points closer than this share one label ("id +N"). */
  private static final double SAME_POINT_PX = 3;

  /** A label: the item it names and its text. */
  record Label(int item, String text) {}

  /**
   * Up to {@code count} labels, outermost points first, placed greedily: a label that would
   * overlap one already placed is left out (the next point out is tried instead), and points
   * drawn on top of a labelled one add "+N" to its label rather than a label of their own.
   *
   * @param pxPerX pixels per unit of x on the chart (an estimate is enough)
   * @param pxPerY pixels per unit of y
   */
  static List<Label> labels(double[] x, double[] y, java.util.function.IntFunction<String> name,
      int count, double pxPerX, double pxPerY) {
    List<Label> out = new ArrayList<>();
    if (count <= 0) {
      return out;
    }
    List<double[]> boxes = new ArrayList<>();
    List<Integer> more = new ArrayList<>();
    // Look well past count for points whose labels fit, but not through every point of a
    // large model.
    List<Integer> candidates = farthest(x, y, (int) Math.min(x.length, 20L * count + 100));
    for (int i : candidates) {
      if (out.size() == count) {
        break;
      }
      double px = x[i] * pxPerX;
      double py = y[i] * pxPerY;
      boolean shared = false;
      for (int j = 0; j < out.size() && !shared; j++) {
        int other = out.get(j).item;
        if (Math.abs(x[other] * pxPerX - px) <= SAME_POINT_PX
            && Math.abs(y[other] * pxPerY - py) <= SAME_POINT_PX) {
          more.set(j, more.get(j) + 1);
          shared = true;
        }
      }
      if (shared) {
        continue;
      }
      String text = clip(name.apply(i));
      // Room for a "+N" suffix, so that adding one later cannot make labels overlap.
      double half = (text.length() + 3) * CHAR_WIDTH_PX / 2;
      double mid = py + LABEL_LIFT_PX;
      double[] box = {px - half, px + half, mid - LABEL_HEIGHT_PX / 2, mid + LABEL_HEIGHT_PX / 2};
      boolean overlaps = false;
      for (double[] b : boxes) {
        if (box[0] < b[1] && b[0] < box[1] && box[2] < b[3] && b[2] < box[3]) {
          overlaps = true;
          break;
        }
      }
      if (!overlaps) {
        boxes.add(box);
        out.add(new Label(i, text));
        more.add(0);
      }
    }
    for (int j = 0; j < out.size(); j++) {
      if (more.get(j) > 0) {
        out.set(j, new Label(out.get(j).item, out.get(j).text + " +" + more.get(j)));
      }
    }
    return out;
  }

  /** The {@code count} points farthest from the centre of the plot, farthest first. */
  static List<Integer> farthest(double[] x, double[] y, int count) {
    if (count <= 0) {
      return List.of();
    }
    double cx = mean(x);
    double cy = mean(y);
    // Distance in units of each axis' spread, so that labels spread over the whole picture.
    double sx = Math.max(range(x), 1e-12);
    double sy = Math.max(range(y), 1e-12);
    List<Integer> all = new ArrayList<>(x.length);
    for (int i = 0; i < x.length; i++) {
      all.add(i);
    }
    all.sort(Comparator.comparingDouble((Integer i) -> {
      double dx = (x[i] - cx) / sx;
      double dy = (y[i] - cy) / sy;
      return -(dx * dx + dy * dy);
    }).thenComparingInt(i -> i));
    return all.subList(0, count);
  }

  private static double mean(double[] v) {
    double s = 0;
    for (double d : v) {
      s += d;
    }
    return s / v.length;
  }

  private static double min(double[] v) {
    double m = Double.POSITIVE_INFINITY;
    for (double d : v) {
      m = Math.min(m, d);
    }
    return m;
  }

  private static double max(double[] v) {
    double m = Double.NEGATIVE_INFINITY;
    for (double d : v) {
      m = Math.max(m, d);
    }
    return m;
  }

  private static double range(double[] v) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double d : v) {
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    return hi - lo;
  }

  private static String clip(String label) {
    return label.length() <= 24 ? label : label.substring(0, 23) + "…";
  }
}
